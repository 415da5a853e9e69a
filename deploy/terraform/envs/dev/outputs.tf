# The stack's outputs (described in modules/stack/outputs.tf) under the names operators and
# deploy/README.md use: `terraform output web_url`.
output "artifact_registry" { value = module.stack.artifact_registry }
output "web_url" { value = module.stack.web_url }
output "load_balancer_ip" { value = module.stack.load_balancer_ip }
output "migrate_job" { value = module.stack.migrate_job }
output "worker_pools" { value = module.stack.worker_pools }
output "cloudsql_connection_name" { value = module.stack.cloudsql_connection_name }
output "dataflow_bucket" { value = module.stack.dataflow_bucket }
output "dataflow_template_path" { value = module.stack.dataflow_template_path }
output "dataflow_service_account" { value = module.stack.dataflow_service_account }
output "pipeline_subscription" { value = module.stack.pipeline_subscription }
output "rotation_topic" { value = module.stack.rotation_topic }
output "deployer_service_account" { value = module.stack.deployer_service_account }
output "dashboard" { value = module.stack.dashboard }
