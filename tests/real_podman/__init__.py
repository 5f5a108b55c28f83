"""Tests against a real Podman 4.3 (Debian 12's package; ``.ci/run`` installs it)."""
