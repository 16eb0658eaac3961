"""auditlog's middleware, with the actor read when a change is logged rather than when the request arrives.

DRF authenticates token requests inside the view, after every middleware ran: auditlog's own middleware
reads ``request.user`` first and sees an anonymous user, so API changes would be logged without an actor.
DRF copies the user it authenticates onto the underlying request, so a lazy read finds it.
"""

from auditlog.middleware import AuditlogMiddleware
from django.utils.functional import SimpleLazyObject


class AuditActorMiddleware(AuditlogMiddleware):
    def get_extra_data(self, request):
        data = super().get_extra_data(request)
        data["actor"] = SimpleLazyObject(lambda: self._get_actor(request))
        return data
