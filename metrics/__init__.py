"""The example workspace's own metrics: a seed-signature metric class and a metric test."""
