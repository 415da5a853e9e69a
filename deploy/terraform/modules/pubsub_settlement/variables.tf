variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "project_number" {
  type        = string
  description = "GCP project number; identifies the Pub/Sub service agent that forwards messages to dead-letter topics."
  validation {
    condition     = can(regex("^[0-9]{6,20}$", var.project_number))
    error_message = "project_number must be the numeric project number."
  }
}

variable "settlement_topic" {
  type        = string
  description = "Topic of settlement lifecycle events (the app's PUBSUB_TOPIC_SETTLEMENT_EVENTS)."
  default     = "settlement.events.v1"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9._~+%-]{2,254}$", var.settlement_topic))
    error_message = "settlement_topic must be a valid Pub/Sub topic id."
  }
}

variable "chain_topic" {
  type        = string
  description = "Topic of decoded contract events from the relayer (the app's PUBSUB_TOPIC_CHAIN_EVENTS)."
  default     = "chain.events.v1"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9._~+%-]{2,254}$", var.chain_topic))
    error_message = "chain_topic must be a valid Pub/Sub topic id."
  }
}

variable "pipeline_subscription" {
  type        = string
  description = "Ordered subscription on the settlement topic that the risk pipeline reads (the app's PUBSUB_PIPELINE_SUBSCRIPTION)."
  default     = "settlement.events.v1.risk-pipeline"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9._~+%-]{2,254}$", var.pipeline_subscription))
    error_message = "pipeline_subscription must be a valid Pub/Sub subscription id."
  }
}

variable "topic_retention" {
  type        = string
  description = "How long topics keep messages for seek/replay into new subscriptions (seconds, e.g. 604800s = 7 days)."
  default     = "604800s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.topic_retention)) && tonumber(trimsuffix(var.topic_retention, "s")) >= 600 && tonumber(trimsuffix(var.topic_retention, "s")) <= 2678400
    error_message = "topic_retention must be between 600s and 2678400s (31 days)."
  }
}

variable "subscription_retention" {
  type        = string
  description = "How long a subscription keeps unacknowledged messages (max 7 days)."
  default     = "604800s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.subscription_retention)) && tonumber(trimsuffix(var.subscription_retention, "s")) >= 600 && tonumber(trimsuffix(var.subscription_retention, "s")) <= 604800
    error_message = "subscription_retention must be between 600s and 604800s."
  }
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Ack deadline of the pipeline subscription (Dataflow extends it while it works)."
  default     = 60
  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of one message before it is moved to the dead-letter topic."
  default     = 10
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key (projects/…/cryptoKeys/…) for customer-managed encryption of the topics; null = Google-managed keys."
  default     = null
  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/.+/locations/.+/keyRings/.+/cryptoKeys/.+$", var.kms_key_name))
    error_message = "kms_key_name must be a full Cloud KMS crypto key name."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to topics and subscriptions."
  default     = {}
}
