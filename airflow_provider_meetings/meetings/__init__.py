"""The onlineMeetings resource: request validation, the update diff, bulk planning, organizers, results."""
