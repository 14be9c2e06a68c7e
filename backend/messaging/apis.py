"""Reading what was sent: an appointment's messages, a person's messages. Reads are audited by the
read-audit middleware (the URL names the appointment or the person)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.permissions import roles
from backend.core.pagination import CursorPaged
from backend.messaging import selectors
from backend.messaging.serializers import SentMessageOut

READERS = roles(*selectors.READERS)


class AppointmentMessagesApi(APIView):
    """Every message for an appointment that you may see, with its status and, if it failed, why."""

    permission_classes = [READERS]

    @extend_schema(responses={200: SentMessageOut(many=True)})
    def get(self, request, appointment_id: int):
        _, messages = selectors.messages_for_appointment(request.user, appointment_id)
        return Response(SentMessageOut(messages, many=True).data)


class ServiceUserMessagesApi(CursorPaged, APIView):
    """Every message sent to a person, newest first: for their team, or for the person themselves."""

    permission_classes = [READERS]

    @extend_schema(responses={200: SentMessageOut(many=True)})
    def get(self, request, service_user_id: int):
        _, messages = selectors.messages_for_person(request.user, service_user_id)
        page = self.page(messages, ordering=("-id",))
        return page.response(SentMessageOut(page.items, many=True).data)
