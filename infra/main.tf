# One spot GPU instance for one benchmark, with a hard time limit.
#
# The limit does not depend on the workflow: the instance's first boot schedules
# `shutdown -h +max_minutes`, and instance_initiated_shutdown_behavior =
# "terminate" turns that power-off into termination. The workflow's
# `terraform destroy` (run even on failure) removes everything sooner.

data "aws_ami" "gpu" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = [var.ami_name_filter]
  }
}

resource "random_id" "name" {
  byte_length = 4
}

resource "aws_key_pair" "bench" {
  key_name   = "iterbench-${random_id.name.hex}"
  public_key = file(var.ssh_public_key_file)
}

resource "aws_security_group" "ssh" {
  name        = "iterbench-${random_id.name.hex}"
  description = "ssh to the iterbench GPU worker"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.ssh_cidr]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "gpu" {
  ami                                  = data.aws_ami.gpu.id
  instance_type                        = var.instance_type
  key_name                             = aws_key_pair.bench.key_name
  vpc_security_group_ids               = [aws_security_group.ssh.id]
  instance_initiated_shutdown_behavior = "terminate"

  instance_market_options {
    market_type = "spot"
    spot_options {
      max_price                      = var.max_spot_price == "" ? null : var.max_spot_price
      spot_instance_type             = "one-time"
      instance_interruption_behavior = "terminate"
      valid_until                    = timeadd(plantimestamp(), "${var.max_minutes}m")
    }
  }

  user_data = templatefile("${path.module}/user_data.sh.tpl", {
    max_minutes    = var.max_minutes
    repository_url = var.repository_url
    commit         = var.commit
    workspace_dir  = local.workspace_dir
  })

  root_block_device {
    volume_size           = 100
    delete_on_termination = true
  }

  tags = {
    Name = "iterbench-gpu-${random_id.name.hex}"
  }
}

locals {
  workspace_dir = "/home/ubuntu/bench"
}
