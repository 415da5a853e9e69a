# Topics carry the CloudEvents envelope as JSON. No Pub/Sub schema resource is attached: Avro and
# Protocol Buffers cannot describe the free-form `data` object without changing the JSON shape
# (see deploy/README.md, "Event schemas"); the JSON Schemas in fusionprime/events/schemas/ are
# enforced by the producer's tests and the pipeline's parse step instead.
locals {
  topics = {
    settlement = var.settlement_topic
    chain      = var.chain_topic
  }
  pubsub_agent = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "events" {
  for_each                   = local.topics
  project                    = var.project_id
  name                       = each.value
  message_retention_duration = var.topic_retention
  kms_key_name               = var.kms_key_name
  labels                     = var.labels
}

resource "google_pubsub_topic" "dead_letter" {
  for_each                   = local.topics
  project                    = var.project_id
  name                       = "${each.value}.dead-letter"
  message_retention_duration = var.topic_retention
  kms_key_name               = var.kms_key_name
  labels                     = var.labels
}

# Keeps dead-lettered messages until someone looks (a topic alone would drop them).
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each                   = local.topics
  project                    = var.project_id
  name                       = "${each.value}.dead-letter.hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = var.subscription_retention
  retain_acked_messages      = true
  ack_deadline_seconds       = 60
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

# The pipeline's subscriptions: ordered by aggregate id (the publisher's ordering key), retried with
# backoff, dead-lettered after max_delivery_attempts, never expiring.
resource "google_pubsub_subscription" "pipeline" {
  for_each                   = local.topics
  project                    = var.project_id
  name                       = each.key == "settlement" ? var.pipeline_subscription : "${each.value}.risk-pipeline"
  topic                      = google_pubsub_topic.events[each.key].id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_retention
  enable_message_ordering    = true
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

# Pub/Sub's own service agent moves messages to the dead-letter topics.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics
  project  = var.project_id
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.topics
  project      = var.project_id
  subscription = google_pubsub_subscription.pipeline[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
