"""Federation: this axis under another one (a province's platform under the national axis),
reached through the national SDK's interface (issue 17)."""
