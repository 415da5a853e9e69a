# Tables, their field lists, partitioning and clustering all come from the pipeline's schema source
# (dataflow/risk_pipeline/schemas): tables.json lists the tables, each <table>.json is the field list.
# There is no second copy here; tests/deploy checks that this stays so.
locals {
  schema_dir = coalesce(var.schema_dir, "${path.module}/../../../../dataflow/risk_pipeline/schemas")
  manifest   = jsondecode(file("${local.schema_dir}/tables.json"))
  tables     = local.manifest.tables
}

resource "google_bigquery_dataset" "risk" {
  #checkov:skip=CKV_GCP_81:CMEK is optional via kms_key_name (an organisation policy decision); Google-managed encryption otherwise.
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  location                   = var.location
  description                = local.manifest.dataset.description
  delete_contents_on_destroy = false
  labels                     = var.labels

  dynamic "default_encryption_configuration" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}

resource "google_bigquery_table" "tables" {
  #checkov:skip=CKV_GCP_80:Encryption is set on the dataset (default_encryption_configuration from kms_key_name) and inherited by its tables; Google-managed when kms_key_name is null.
  for_each            = local.tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.risk.dataset_id
  table_id            = each.key
  description         = try(each.value.description, null)
  schema              = file("${local.schema_dir}/${each.value.schema}")
  clustering          = try(each.value.clustering, null)
  deletion_protection = var.deletion_protection
  labels              = var.labels

  dynamic "time_partitioning" {
    for_each = try(each.value.time_partitioning, null) == null ? [] : [each.value.time_partitioning]
    content {
      type          = time_partitioning.value.type
      field         = time_partitioning.value.field
      expiration_ms = each.key == "settlement_events" || var.partition_expiration_days == 0 ? null : var.partition_expiration_days * 86400000
    }
  }
}

resource "google_bigquery_dataset_iam_member" "writers" {
  for_each   = var.writer_members
  project    = var.project_id
  dataset_id = google_bigquery_dataset.risk.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}

resource "google_bigquery_dataset_iam_member" "readers" {
  for_each   = var.reader_members
  project    = var.project_id
  dataset_id = google_bigquery_dataset.risk.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}
