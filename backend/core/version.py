"""The API's version: the newest entry of docs/api.md's changelog, and the OpenAPI schema's `info.version`
(SPECTACULAR_SETTINGS reads it; tests/test_api_schema.py checks the changelog agrees). Bump it with a
changelog entry."""

API_VERSION = "1.9.0"
