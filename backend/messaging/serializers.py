from rest_framework import serializers

from backend.messaging.models import Message


class SentMessageOut(serializers.ModelSerializer):
    appointment_id = serializers.IntegerField(read_only=True, allow_null=True)
    recipient_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Message
        fields = ["id", "reference", "recipient_id", "appointment_id", "kind", "channel", "to", "sender_name", "subject", "body",
                  "send_after", "status", "status_reason", "status_at", "attempts", "provider", "provider_status", "sent_at",
                  "created_at"]
        read_only_fields = fields
