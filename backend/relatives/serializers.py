from rest_framework import serializers

from backend.core.serializers import StrictInputSerializer
from backend.relatives.models import ForumPost, ModulePage, ModuleResource, ModuleVersion, SafetyFlag, Section, Thread, ThreadMessage

HELP_NOW = ("What you wrote has been passed to a supporter. If someone's life is in danger, call 999. For urgent mental health help, "
            "call NHS 111 and choose the mental health option. Supporters cannot respond in an emergency.")


class ModuleSummaryOut(serializers.Serializer):
    module_id = serializers.IntegerField()
    version = serializers.IntegerField(source="version.number")
    title = serializers.CharField(source="version.title")
    summary = serializers.CharField(source="version.summary")
    pages = serializers.IntegerField()
    pages_opened = serializers.IntegerField(help_text="Pages you opened (relatives only; 0 for supporters).")
    minutes = serializers.IntegerField(help_text="Time counted reading it, in minutes (docs/relatives.md says how).")


class PageOut(serializers.ModelSerializer):
    class Meta:
        model = ModulePage
        fields = ["id", "position", "title", "body"]


class SectionOut(serializers.ModelSerializer):
    pages = PageOut(many=True)

    class Meta:
        model = Section
        fields = ["id", "position", "title", "pages"]


class ModuleResourceOut(serializers.ModelSerializer):
    class Meta:
        model = ModuleResource
        fields = ["position", "title", "url", "description"]


class ModuleOut(serializers.ModelSerializer):
    module_id = serializers.IntegerField()
    version = serializers.IntegerField(source="number")
    sections = SectionOut(many=True)
    resources = ModuleResourceOut(many=True)

    class Meta:
        model = ModuleVersion
        fields = ["module_id", "version", "title", "summary", "published_at", "sections", "resources"]


class PageOpenOut(serializers.Serializer):
    page_id = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    counted = serializers.BooleanField(help_text="False for a supporter: only relatives' reading is progress.")


class ThreadMessageOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.display_name")

    class Meta:
        model = ThreadMessage
        fields = ["id", "author", "by_supporter", "body", "created_at"]


class ThreadOut(serializers.ModelSerializer):
    relative = serializers.CharField(source="relative.user.display_name")
    notice = serializers.SerializerMethodField()

    class Meta:
        model = Thread
        fields = ["id", "subject", "relative", "created_at", "last_message_at", "reply_waiting", "notice"]

    def get_notice(self, thread) -> str:
        return "Information, not advice"


class ThreadDetailOut(ThreadOut):
    messages = ThreadMessageOut(many=True)

    class Meta(ThreadOut.Meta):
        fields = [*ThreadOut.Meta.fields, "messages"]


class ThreadStartInput(StrictInputSerializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)


class ThreadMessageInput(StrictInputSerializer):
    body = serializers.CharField(max_length=20000)


class WrittenOut(serializers.Serializer):
    """What a relative wrote was saved; `flagged` and `help_now` when it had words from the risk list."""

    id = serializers.IntegerField()
    thread_id = serializers.IntegerField(allow_null=True)
    state = serializers.CharField(allow_blank=True)
    flagged = serializers.BooleanField()
    help_now = serializers.CharField(allow_null=True)


class PostOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author_user.display_name")

    class Meta:
        model = ForumPost
        fields = ["id", "parent_id", "title", "body", "state", "held_reason", "author", "created_at"]


class PostInput(StrictInputSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=20000)
    parent_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    ask_supporter_to_check = serializers.BooleanField(required=False, default=False)


class ReportInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)


class ForumReportOut(serializers.Serializer):
    post_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


MODERATION_DECISIONS = [("publish", "Publish"), ("remove", "Remove")]


class ModerationInput(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=MODERATION_DECISIONS)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SafetyFlagOut(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    thread_id = serializers.IntegerField(source="message.thread_id", allow_null=True, default=None)
    post_id = serializers.IntegerField(allow_null=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = SafetyFlag
        fields = ["id", "kind", "thread_id", "post_id", "words", "text", "created_at", "reviewed_at"]

    def get_kind(self, flag) -> str:
        return "message" if flag.message_id else "post"

    def get_text(self, flag) -> str:
        return flag.message.body if flag.message_id else flag.post.body


class RelativeInvitationInput(StrictInputSerializer):
    carer_link_id = serializers.IntegerField(required=False, min_value=1, help_text="Invite the carer of this accepted carer link.")
    email = serializers.EmailField(required=False, help_text="Or invite a relative not linked to one person's care.")
    full_name = serializers.CharField(required=False, max_length=200)

    def validate(self, data):
        if ("carer_link_id" in data) == ("email" in data):
            raise serializers.ValidationError({"carer_link_id": ["Give either carer_link_id or email (with full_name), not both."]})
        if "email" in data and not data.get("full_name", "").strip():
            raise serializers.ValidationError({"full_name": ["Give the relative's name."]})
        return data


class RelativeInvitationOut(serializers.Serializer):
    relative_id = serializers.IntegerField(source="pk")
    user_id = serializers.IntegerField()
    carer_link_id = serializers.IntegerField(allow_null=True)
    invited_at = serializers.DateTimeField()


class ModuleUseOut(serializers.Serializer):
    module_id = serializers.IntegerField()
    title = serializers.CharField()
    relatives = serializers.IntegerField()
    page_opens = serializers.IntegerField()


class UsageOut(serializers.Serializer):
    modules = ModuleUseOut(many=True)
    relatives = serializers.IntegerField()
    threads = serializers.IntegerField()
    messages_from_relatives = serializers.IntegerField()
    replies_from_supporters = serializers.IntegerField()
    forum_posts = serializers.IntegerField()
    safety_flags = serializers.IntegerField()
