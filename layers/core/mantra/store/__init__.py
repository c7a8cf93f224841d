"""Data access: the only package that imports pynamodb or boto3."""
