#!/bin/bash
# First boot of the GPU worker: the hard time limit first, then the checkout and its setup.
set -euo pipefail
shutdown -h +${max_minutes}
apt-get update
apt-get install -y --no-install-recommends git make python3.11 python3.11-venv
sudo -u ubuntu git clone ${repository_url} ${workspace_dir}
sudo -u ubuntu git -C ${workspace_dir} checkout ${commit}
# The GPU build of torch (the Makefile's default index), then the project: make setup.
sudo -u ubuntu make -C ${workspace_dir} setup PYTHON=python3.11
