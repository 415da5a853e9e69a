# The stack used to be written out in this root: these move the existing state to the addresses
# under module.stack, so the refactoring plans no change. Delete this file once every installation
# of this environment has applied it (`terraform plan` shows no moves left).
moved {
  from = google_project_service.apis
  to   = module.stack.google_project_service.apis
}

moved {
  from = google_artifact_registry_repository.images
  to   = module.stack.google_artifact_registry_repository.images
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.cloudsql
  to   = module.stack.module.cloudsql
}

moved {
  from = module.memorystore
  to   = module.stack.module.memorystore
}

moved {
  from = module.pubsub
  to   = module.stack.module.pubsub
}

moved {
  from = module.bigquery_risk
  to   = module.stack.module.bigquery_risk
}

moved {
  from = module.security
  to   = module.stack.module.security
}

moved {
  from = google_secret_manager_secret_version.redis
  to   = module.stack.google_secret_manager_secret_version.redis
}

moved {
  from = module.cloud_run
  to   = module.stack.module.cloud_run
}

moved {
  from = module.dataflow
  to   = module.stack.module.dataflow
}

moved {
  from = module.observability
  to   = module.stack.module.observability
}

moved {
  from = terraform_data.connection_budget
  to   = module.stack.terraform_data.connection_budget
}

moved {
  from = google_service_account.deployer
  to   = module.stack.google_service_account.deployer
}

moved {
  from = google_project_iam_member.deployer
  to   = module.stack.google_project_iam_member.deployer
}

moved {
  from = google_artifact_registry_repository_iam_member.deployer
  to   = module.stack.google_artifact_registry_repository_iam_member.deployer
}

moved {
  from = google_storage_bucket_iam_member.deployer_templates
  to   = module.stack.google_storage_bucket_iam_member.deployer_templates
}

moved {
  from = google_service_account_iam_member.deployer_act_as
  to   = module.stack.google_service_account_iam_member.deployer_act_as
}
