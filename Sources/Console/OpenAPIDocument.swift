/// The console API's OpenAPI 3.0 description, served at `/api/v1/openapi.json`. Kept here, in
/// the source, so that the binary serves exactly the document it was built with; a test checks
/// that every route the router answers is described and every described path answers.
enum OpenAPIDocument {
    static let text = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "meetmeter console API",
        "version": "1",
        "description": "Read-only usage and statements of a meetmeter aggregator, rated under its console's billing policy exactly as `meetmeter report --policy` rates them. Amounts and quantities are decimal strings. An operator token sees everything; an account token only its own account, and gets 404 for anything else."
      },
      "servers": [{"url": "/"}],
      "security": [{"bearer": []}],
      "paths": {
        "/api/v1/openapi.json": {
          "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}
          }
        },
        "/api/v1/accounts": {
          "get": {
            "summary": "Each account's charges and amount due for a period",
            "parameters": [
              {"$ref": "#/components/parameters/period"},
              {"$ref": "#/components/parameters/as_of"},
              {"$ref": "#/components/parameters/rerate"}
            ],
            "responses": {
              "200": {"description": "The accounts of the period's statement", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accounts"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/accounts/{account}/statement": {
          "get": {
            "summary": "One account's statement for a period: its lines, quantities and total",
            "parameters": [
              {"name": "account", "in": "path", "required": true, "schema": {"type": "string"}},
              {"$ref": "#/components/parameters/period"},
              {"$ref": "#/components/parameters/as_of"},
              {"$ref": "#/components/parameters/rerate"},
              {"$ref": "#/components/parameters/format"}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/Statement"},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/statement": {
          "get": {
            "summary": "The whole statement of a period, every account (operator only)",
            "parameters": [
              {"$ref": "#/components/parameters/period"},
              {"$ref": "#/components/parameters/as_of"},
              {"$ref": "#/components/parameters/rerate"},
              {"$ref": "#/components/parameters/format"}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/Statement"},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/meetings": {
          "get": {
            "summary": "The period's meetings (an account token: its own), with their people and presence intervals",
            "parameters": [{"$ref": "#/components/parameters/period"}, {"$ref": "#/components/parameters/account"}],
            "responses": {
              "200": {"description": "The meetings", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Meetings"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/meetings/{meeting}": {
          "get": {
            "summary": "One meeting of the period: its people, each presence interval and the records that opened and closed it",
            "parameters": [
              {"name": "meeting", "in": "path", "required": true, "schema": {"type": "string"}},
              {"$ref": "#/components/parameters/period"}
            ],
            "responses": {
              "200": {"description": "The meeting", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Meeting"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/accounts/{account}/usage": {
          "get": {
            "summary": "One account's usage per meter, per day or per ISO week of a period: the period rated with every meter's cycle set to the day (or week); quantities only",
            "parameters": [
              {"name": "account", "in": "path", "required": true, "schema": {"type": "string"}},
              {"$ref": "#/components/parameters/period"},
              {"name": "by", "in": "query", "required": false, "description": "day (default) or week", "schema": {"type": "string", "enum": ["day", "week"]}}
            ],
            "responses": {
              "200": {"description": "The usage series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Usage"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/meetings/{meeting}/records": {
          "get": {
            "summary": "Every record of one meeting of the period, whatever its time, as it was sent (meetmeter-protocol(7))",
            "parameters": [
              {"name": "meeting", "in": "path", "required": true, "schema": {"type": "string"}},
              {"$ref": "#/components/parameters/period"}
            ],
            "responses": {
              "200": {"description": "The records", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Records"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/recordings": {
          "get": {
            "summary": "The recordings processed or sampled in a period (an account token: its own), with their steps and latest size",
            "parameters": [{"$ref": "#/components/parameters/period"}, {"$ref": "#/components/parameters/account"}],
            "responses": {
              "200": {"description": "The recordings", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Recordings"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/v1/hosts": {
          "get": {
            "summary": "Each meeting host's state, last record, lag and heartbeat, with its boots and heartbeat gaps in a period (operator only)",
            "parameters": [{"$ref": "#/components/parameters/period_optional"}],
            "responses": {
              "200": {"description": "The hosts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Hosts"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        }
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "parameters": {
          "period": {"name": "period", "in": "query", "required": true, "description": "A month (2026-11), an ISO week (2026-W47) or a day (2026-11-22), in UTC, from 1970. The pattern leaves out what is valid only in some years (week 53, February 29), which are taken too.", "schema": {"type": "string", "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-(W(0[1-9]|[1-4][0-9]|5[0-2])|(0[1-9]|1[0-2])|(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)$"}},
          "period_optional": {"name": "period", "in": "query", "required": false, "description": "As period; default the current month (UTC)", "schema": {"type": "string", "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-(W(0[1-9]|[1-4][0-9]|5[0-2])|(0[1-9]|1[0-2])|(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)$"}},
          "account": {"name": "account", "in": "query", "required": false, "description": "Only this account's (404 for one the token may not see)", "schema": {"type": "string"}},
          "as_of": {"name": "as_of", "in": "query", "required": false, "description": "The statement as it stood at this RFC 3339 time (default: now)", "schema": {"type": "string", "format": "date-time"}},
          "rerate": {"name": "rerate", "in": "query", "required": false, "description": "true: rate with every record known now, as if the period had never closed", "schema": {"type": "string", "enum": ["true", "false"]}},
          "format": {"name": "format", "in": "query", "required": false, "description": "json (default), csv, or stripe (meter events, one JSON object a line)", "schema": {"type": "string", "enum": ["json", "csv", "stripe"]}}
        },
        "responses": {
          "Statement": {
            "description": "The statement, in the format asked for",
            "content": {
              "application/json": {"schema": {"$ref": "#/components/schemas/Statement"}},
              "text/csv": {"schema": {"type": "string"}},
              "application/x-ndjson": {"schema": {"type": "string"}}
            }
          },
          "BadRequest": {"description": "A parameter is missing or malformed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unauthorized": {"description": "No token, or a wrong one", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "NotFound": {"description": "Not there, or not this token's to see", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unavailable": {"description": "The store cannot be read now", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
          "Decimal": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
          "AccountTotal": {
            "type": "object",
            "required": ["account", "charges", "carried_in", "carried_out", "due"],
            "properties": {
              "account": {"type": "string"},
              "charges": {"$ref": "#/components/schemas/Decimal"},
              "carried_in": {"$ref": "#/components/schemas/Decimal"},
              "carried_out": {"$ref": "#/components/schemas/Decimal"},
              "due": {"$ref": "#/components/schemas/Decimal"}
            }
          },
          "Accounts": {
            "type": "object",
            "required": ["period", "from", "to", "currency", "accounts", "total", "closes", "closed"],
            "properties": {
              "period": {"type": "string"},
              "from": {"type": "string", "format": "date-time"},
              "to": {"type": "string", "format": "date-time"},
              "currency": {"type": "string"},
              "as_of": {"type": "string", "format": "date-time", "nullable": true},
              "closes": {"type": "string", "format": "date-time", "description": "When the period closes ([closing] grace_days after its end): usage received later is an adjustment on a later statement"},
              "closed": {"type": "boolean", "nullable": true, "description": "Closed at as_of; null with rerate=true"},
              "accounts": {"type": "array", "items": {"$ref": "#/components/schemas/AccountTotal"}},
              "total": {"$ref": "#/components/schemas/Decimal"}
            }
          },
          "Line": {
            "type": "object",
            "required": ["account", "item", "kind", "quantity", "unit", "unit_price", "amount", "from", "to", "cycles", "sources"],
            "properties": {
              "account": {"type": "string"},
              "item": {"type": "string"},
              "detail": {"type": "string", "nullable": true},
              "description": {"type": "string", "nullable": true},
              "kind": {"type": "string"},
              "quantity": {"$ref": "#/components/schemas/Decimal"},
              "unit": {"type": "string"},
              "unit_price": {"$ref": "#/components/schemas/Decimal"},
              "amount": {"$ref": "#/components/schemas/Decimal"},
              "from": {"type": "string", "format": "date-time"},
              "to": {"type": "string", "format": "date-time"},
              "cycles": {"type": "array", "items": {"type": "string"}},
              "sources": {"type": "array", "items": {"type": "string"}}
            }
          },
          "Statement": {
            "type": "object",
            "required": ["period", "from", "to", "currency", "lines", "accounts", "total", "warnings", "notes"],
            "properties": {
              "period": {"type": "string"},
              "from": {"type": "string", "format": "date-time"},
              "to": {"type": "string", "format": "date-time"},
              "currency": {"type": "string"},
              "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
              "accounts": {"type": "array", "items": {"$ref": "#/components/schemas/AccountTotal"}},
              "total": {"$ref": "#/components/schemas/Decimal"},
              "warnings": {"type": "array", "items": {"type": "string"}},
              "notes": {"type": "object", "additionalProperties": {"type": "integer"}}
            }
          },
          "Host": {
            "type": "object",
            "required": ["host", "records", "last_record", "last_received", "lag_seconds", "last_heartbeat"],
            "properties": {
              "host": {"type": "string"},
              "records": {"type": "integer"},
              "last_record": {"type": "string", "format": "date-time"},
              "last_received": {"type": "string", "format": "date-time"},
              "lag_seconds": {"type": "integer"},
              "last_heartbeat": {"type": "string", "format": "date-time", "nullable": true},
              "state": {"type": "string", "enum": ["current", "catching-up", "silent", "no-heartbeat"], "description": "silent: heartbeats more than two intervals late; catching-up: the latest record arrived more than two intervals after it was written (a spool being drained)"},
              "heartbeat_interval_seconds": {"type": "integer", "nullable": true},
              "boots": {"type": "array", "items": {"type": "string"}, "description": "Boot ids seen in the period, in order"},
              "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}, "description": "Where a heartbeat came more than twice its interval after the one before, in the period"}
            }
          },
          "Gap": {"type": "object", "required": ["from", "to"], "properties": {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}},
          "Usage": {
            "type": "object",
            "required": ["account", "period", "by", "meters"],
            "properties": {
              "account": {"type": "string"},
              "period": {"type": "string"},
              "by": {"type": "string", "enum": ["day", "week"]},
              "meters": {"type": "array", "items": {
                "type": "object", "required": ["meter", "unit", "points"],
                "properties": {
                  "meter": {"type": "string"},
                  "unit": {"type": "string"},
                  "points": {"type": "array", "items": {
                    "type": "object", "required": ["cycle", "start", "quantity"],
                    "properties": {"cycle": {"type": "string"}, "start": {"type": "string", "format": "date-time"}, "quantity": {"type": "integer"}}
                  }}
                }
              }}
            }
          },
          "Records": {
            "type": "object",
            "required": ["meeting", "records"],
            "properties": {
              "meeting": {"type": "string"},
              "records": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "time", "host"], "properties": {
                "id": {"type": "string"}, "kind": {"type": "string"}, "time": {"type": "string", "format": "date-time"}, "host": {"type": "string"}
              }}}
            }
          },
          "Recording": {
            "type": "object",
            "required": ["recording", "meeting", "host", "account", "steps", "bytes", "sampled"],
            "properties": {
              "recording": {"type": "string"},
              "meeting": {"type": "string"},
              "host": {"type": "string"},
              "account": {"type": "string"},
              "steps": {"type": "array", "items": {"type": "object", "required": ["step", "started", "ended"], "properties": {
                "step": {"type": "string"}, "started": {"type": "string", "format": "date-time"}, "ended": {"type": "string", "format": "date-time"}
              }}},
              "bytes": {"type": "integer", "nullable": true, "description": "The latest size sampled in the period"},
              "sampled": {"type": "string", "format": "date-time", "nullable": true}
            }
          },
          "Recordings": {
            "type": "object",
            "required": ["period", "recordings"],
            "properties": {"period": {"type": "string"}, "recordings": {"type": "array", "items": {"$ref": "#/components/schemas/Recording"}}}
          },
          "Interval": {
            "type": "object",
            "required": ["start", "end", "role", "client", "closure", "join_record", "end_record"],
            "properties": {
              "start": {"type": "string", "format": "date-time"},
              "end": {"type": "string", "format": "date-time"},
              "role": {"type": "string"},
              "client": {"type": "string", "nullable": true},
              "closure": {"type": "string", "enum": ["left", "ended", "host-rebooted", "host-silent", "open"]},
              "join_record": {"type": "string"},
              "end_record": {"type": "string", "nullable": true}
            }
          },
          "Person": {
            "type": "object",
            "required": ["user", "role", "seconds", "minutes", "intervals"],
            "properties": {
              "user": {"type": "string"},
              "role": {"type": "string"},
              "seconds": {"type": "integer"},
              "minutes": {"type": "integer"},
              "intervals": {"type": "array", "items": {"$ref": "#/components/schemas/Interval"}}
            }
          },
          "Meeting": {
            "type": "object",
            "required": ["meeting", "account", "host", "start", "end", "name", "external", "parent", "seconds", "minutes", "closure", "people"],
            "properties": {
              "meeting": {"type": "string"},
              "account": {"type": "string"},
              "host": {"type": "string"},
              "start": {"type": "string", "format": "date-time"},
              "end": {"type": "string", "format": "date-time", "nullable": true},
              "name": {"type": "string", "nullable": true},
              "external": {"type": "string", "nullable": true},
              "parent": {"type": "string", "nullable": true},
              "seconds": {"type": "integer"},
              "minutes": {"type": "integer"},
              "closure": {"type": "string", "enum": ["left", "ended", "host-rebooted", "host-silent", "open"]},
              "people": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
              "billing": {"type": "array", "description": "One meeting only: each stretch of each person's time, billed or not and why, under the policy's participant rule (live collaboration) and its whiteboard rule", "items": {"$ref": "#/components/schemas/Stretch"}}
            }
          },
          "Stretch": {
            "type": "object",
            "required": ["meter", "user", "start", "end", "billable", "reason"],
            "properties": {
              "meter": {"type": "string", "description": "The item of the meter the stretch is rated under"},
              "user": {"type": "string"},
              "start": {"type": "string", "format": "date-time"},
              "end": {"type": "string", "format": "date-time"},
              "billable": {"type": "boolean"},
              "reason": {"type": "string", "enum": ["admin", "admin-present", "grace", "no-admin", "not-counted", "whiteboard", "background-pause"]}
            }
          },
          "Meetings": {
            "type": "object",
            "required": ["period", "meetings"],
            "properties": {
              "period": {"type": "string"},
              "meetings": {"type": "array", "items": {"$ref": "#/components/schemas/Meeting"}}
            }
          },
          "Hosts": {"type": "object", "required": ["period", "hosts"], "properties": {"period": {"type": "string"}, "hosts": {"type": "array", "items": {"$ref": "#/components/schemas/Host"}}}}
        }
      }
    }
    """#
}
