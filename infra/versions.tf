terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  # Credentials and region come from the environment (AWS_ACCESS_KEY_ID,
  # AWS_SECRET_ACCESS_KEY, AWS_REGION): in CI from GitHub Secrets, never from a file here.
}
