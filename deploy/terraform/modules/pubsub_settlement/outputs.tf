output "settlement_topic_id" {
  description = "Full id of the settlement events topic."
  value       = google_pubsub_topic.events["settlement"].id
}

output "chain_topic_id" {
  description = "Full id of the chain events topic."
  value       = google_pubsub_topic.events["chain"].id
}

output "topic_names" {
  description = "Short names of the event topics, keyed settlement/chain (the app's PUBSUB_TOPIC_* settings)."
  value       = { for key, topic in google_pubsub_topic.events : key => topic.name }
}

output "pipeline_subscription_name" {
  description = "Short name of the subscription the risk pipeline reads (PUBSUB_PIPELINE_SUBSCRIPTION)."
  value       = google_pubsub_subscription.pipeline["settlement"].name
}

output "pipeline_subscription_ids" {
  description = "Full ids of the pipeline subscriptions, keyed settlement/chain."
  value       = { for key, sub in google_pubsub_subscription.pipeline : key => sub.id }
}

output "dead_letter_topic_ids" {
  description = "Full ids of the dead-letter topics, keyed settlement/chain."
  value       = { for key, topic in google_pubsub_topic.dead_letter : key => topic.id }
}

output "dead_letter_subscription_names" {
  description = "Subscriptions holding dead-lettered messages, keyed settlement/chain."
  value       = { for key, sub in google_pubsub_subscription.dead_letter_hold : key => sub.name }
}
