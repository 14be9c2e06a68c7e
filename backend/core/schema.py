"""OpenAPI schema customisation: every operation declares the shared Error shape for its 4xx answers."""

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "The shape of every 4xx answer.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status code, repeated."},
        "code": {"type": "string", "description": "A stable machine-readable reason, e.g. invalid, not_found."},
        "detail": {"type": "string", "description": "What went wrong and what to do next, in plain words."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True, "description": "The field at fault, dotted for nested fields; null if none."},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["status", "code", "detail", "errors"],
}

_ERROR_STATUSES = {
    "400": "Invalid input: see errors.",
    "401": "Not logged in, or the token has expired.",
    "403": "Not allowed for this account.",
    "404": "Not found, or not visible to this account.",
    "409": "Not possible in the current state.",
    "429": "Too many attempts; wait and retry.",
}


class RapportAutoSchema(AutoSchema):
    """Tags each operation with its app, so the docs page groups endpoints by domain."""

    def get_tags(self):
        module = self.view.__class__.__module__.split(".")
        return [module[1]] if len(module) > 2 and module[0] == "backend" else super().get_tags()


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: one Error component, referenced by every operation's 4xx answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                responses.setdefault(status, {"description": description, "content": ref})
    return result


# Response shapes that are one of several (oneOf): each named shape refuses properties it does not
# declare, so an answer matches exactly one. A full appointment has every field of the carer's
# narrower AppointmentTimeOut and more; without this, it matched both and strict clients refused it.
EXCLUSIVE_SHAPES = ("AppointmentTimeOut",)


def close_exclusive_shapes(result, generator, request, public):
    """Postprocessing hook: `additionalProperties: false` on the EXCLUSIVE_SHAPES components."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in EXCLUSIVE_SHAPES:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
