terraform {
  # OpenTofu 1.6+ or Terraform 1.5+; the AWS provider 5.x (target tracking with
  # metric math and Keyspaces client-side timestamps need 5.30 or later).
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.30, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ "app" = "tally", "tally:deployment" = var.name }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
