variable "instance_type" {
  description = "GPU instance type (one NVIDIA T4 by default)."
  type        = string
  default     = "g4dn.xlarge"
}

variable "max_spot_price" {
  description = "Highest hourly spot price in USD; empty for the on-demand price as the cap."
  type        = string
  default     = ""
}

variable "max_minutes" {
  description = "Hard time limit: the instance powers off, and so terminates, this many minutes after boot, whatever the workflow does."
  type        = number
  default     = 90

  validation {
    condition     = var.max_minutes >= 10 && var.max_minutes <= 360
    error_message = "max_minutes must be between 10 and 360."
  }
}

variable "ssh_public_key_file" {
  description = "Path of the public key allowed to log in as ubuntu (the workflow derives it from the GPU_SSH_PRIVATE_KEY secret)."
  type        = string
}

variable "ssh_cidr" {
  description = "Addresses allowed to reach port 22."
  type        = string
  default     = "0.0.0.0/0"
}

variable "repository_url" {
  description = "Git URL the instance clones (a public repository, or one readable without credentials)."
  type        = string
}

variable "commit" {
  description = "Commit the instance checks out: the controller's, so the remote worker's code check passes."
  type        = string
}

variable "ami_name_filter" {
  description = "Name filter of the AMI (an Ubuntu Deep Learning image with the NVIDIA driver)."
  type        = string
  default     = "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)*"
}
