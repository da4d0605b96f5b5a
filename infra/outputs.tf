output "ssh_host" {
  description = "user@address for ssh and for xdist's --tx ssh= spec."
  value       = "ubuntu@${aws_instance.gpu.public_ip}"
}

output "workspace_dir" {
  description = "The checkout on the instance: the remote worker's //chdir= (its .venv/.installed appears once make setup is done)."
  value       = local.workspace_dir
}

output "terminates_by" {
  description = "Time by which the instance has powered itself off and terminated, whatever happens to the workflow."
  value       = timeadd(aws_instance.gpu.launch_time, "${var.max_minutes}m")
}
