"""The relatives' space API: thin views over selectors and services (docs/relatives.md)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors as access
from backend.accounts.models import Role
from backend.accounts.permissions import ADMIN_ONLY, roles
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.pagination import CursorPaged
from backend.core.serializers import parse_input as parse
from backend.relatives import selectors, services
from backend.relatives import serializers as s

SPACE = roles(Role.CARER, Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)  # then the space's own rule (selectors.space_for)
INVITERS = roles(Role.CLINICIAN, Role.PEER_WORKER, Role.ADMIN)


def _written(obj, flag, *, thread_id=None, state="") -> Response:
    data = {"id": obj.pk, "thread_id": thread_id, "state": state, "flagged": flag is not None, "help_now": s.HELP_NOW if flag else None}
    return Response(s.WrittenOut(data).data, status=status.HTTP_201_CREATED)


class ModuleListApi(APIView):
    """The modules of your relatives' space (newest published versions), with your own progress."""

    permission_classes = [SPACE]

    @extend_schema(responses={200: s.ModuleSummaryOut(many=True)})
    def get(self, request):
        space = selectors.space_for(request.user)
        if space.relative is not None:
            rows = selectors.progress_of(space.relative)
        else:
            rows = [{"version": v, "module_id": v.module_id, "pages": 0, "pages_opened": 0, "minutes": 0}
                    for v in selectors.module_versions_for_reader(request.user)]
        return Response(s.ModuleSummaryOut(rows, many=True).data)


class ModuleDetailApi(APIView):
    permission_classes = [SPACE]

    @extend_schema(responses={200: s.ModuleOut})
    def get(self, request, module_id: int):
        return Response(s.ModuleOut(selectors.module_for_reader(request.user, module_id)).data)


class PageOpenApi(APIView):
    """Record that you opened a page (your progress; the time until your next page is counted)."""

    permission_classes = [SPACE]

    @extend_schema(request=None, responses={201: s.PageOpenOut})
    def post(self, request, page_id: int):
        page = selectors.page_for_reader(request.user, page_id)
        opened = services.page_open_record(actor=Actor.from_request(request), page=page)
        data = {"page_id": page.pk, "opened_at": opened.opened_at if opened else page.section.version.published_at, "counted": opened is not None}
        return Response(s.PageOpenOut(data).data, status=status.HTTP_201_CREATED)


class ThreadListApi(CursorPaged, APIView):
    """Your conversations with supporters (a supporter: every relative's in the organisation). POST: a
    relative writes to the supporters."""

    permission_classes = [SPACE]

    @extend_schema(responses={200: s.ThreadOut(many=True)})
    def get(self, request):
        page = self.page(selectors.threads_visible_to(request.user), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="relatives.thread", ids=[t.pk for t in page.items])
        return page.response(s.ThreadOut(page.items, many=True).data)

    @extend_schema(request=s.ThreadStartInput, responses={201: s.WrittenOut})
    def post(self, request):
        thread, flag = services.thread_start(actor=Actor.from_request(request), **parse(s.ThreadStartInput, request))
        return _written(thread, flag, thread_id=thread.pk)


class ThreadDetailApi(APIView):
    permission_classes = [SPACE]

    @extend_schema(responses={200: s.ThreadDetailOut})
    def get(self, request, thread_id: int):
        thread = selectors.thread_for(request.user, thread_id)
        actor = Actor.from_request(request)
        audit_record(actor=actor, action=AuditEvent.Action.READ, obj=thread)
        data = s.ThreadDetailOut(thread).data  # as it stood when asked: "a reply is waiting" shows once
        services.thread_opened(actor=actor, thread=thread)
        return Response(data)


class ThreadMessageApi(APIView):
    """Add a message to a conversation: its relative, or a supporter (whose reply emails the relative)."""

    permission_classes = [SPACE]

    @extend_schema(request=s.ThreadMessageInput, responses={201: s.WrittenOut})
    def post(self, request, thread_id: int):
        thread = selectors.thread_for(request.user, thread_id)
        message, flag = services.message_send(actor=Actor.from_request(request), thread=thread, request_base_url=request.build_absolute_uri("/"),
                                              **parse(s.ThreadMessageInput, request))
        return _written(message, flag, thread_id=thread.pk)


class PostListApi(CursorPaged, APIView):
    """The forum: published posts, your own held ones (supporters: every post). POST: write a post or a reply."""

    permission_classes = [SPACE]

    @extend_schema(responses={200: s.PostOut(many=True)})
    def get(self, request):
        page = self.page(selectors.posts_visible_to(request.user), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="relatives.forumpost", ids=[p.pk for p in page.items])
        return page.response(s.PostOut(page.items, many=True).data)

    @extend_schema(request=s.PostInput, responses={201: s.WrittenOut})
    def post(self, request):
        data = parse(s.PostInput, request)
        parent_id = data.pop("parent_id")
        parent = selectors.post_for(request.user, parent_id) if parent_id else None
        post, flag = services.forum_post_create(actor=Actor.from_request(request), parent=parent, **data)
        return _written(post, flag, state=post.state)


class PostReportApi(APIView):
    permission_classes = [SPACE]

    @extend_schema(request=s.ReportInput, responses={201: s.ForumReportOut})
    def post(self, request, post_id: int):
        post = selectors.post_for(request.user, post_id)
        report = services.forum_post_report(actor=Actor.from_request(request), post=post, **parse(s.ReportInput, request))
        return Response(s.ForumReportOut({"post_id": post.pk, "created_at": report.created_at}).data, status=status.HTTP_201_CREATED)


class PostModerationApi(APIView):
    """A supporter publishes a held post or removes one."""

    permission_classes = [SPACE]

    @extend_schema(request=s.ModerationInput, responses={200: s.PostOut})
    def post(self, request, post_id: int):
        selectors.require_supporter(request.user)
        post = selectors.post_for(request.user, post_id)
        post = services.forum_post_moderate(actor=Actor.from_request(request), post=post, **parse(s.ModerationInput, request))
        return Response(s.PostOut(post).data)


class SafetyFlagListApi(CursorPaged, APIView):
    """Supporters: posts and messages with words from the risk list, newest first."""

    permission_classes = [SPACE]

    @extend_schema(responses={200: s.SafetyFlagOut(many=True)})
    def get(self, request):
        page = self.page(selectors.flags_visible_to(request.user), ordering=("-id",))
        audit_list(actor=Actor.from_request(request), object_type="relatives.safetyflag", ids=[f.pk for f in page.items])
        return page.response(s.SafetyFlagOut(page.items, many=True).data)


class InvitationApi(APIView):
    """Staff invite a relative: the carer of an accepted carer link, or a relative linked to nobody's care."""

    permission_classes = [INVITERS]

    @extend_schema(request=s.RelativeInvitationInput, responses={201: s.RelativeInvitationOut})
    def post(self, request):
        data = parse(s.RelativeInvitationInput, request)
        actor, base = Actor.from_request(request), request.build_absolute_uri("/")
        if "carer_link_id" in data:
            link = access.carer_link_for(request.user, data["carer_link_id"])
            relative = services.relative_invite_from_link(actor=actor, link=link, request_base_url=base)
        else:
            relative = services.relative_invite(actor=actor, email=data["email"], full_name=data["full_name"], request_base_url=base)
        return Response(s.RelativeInvitationOut(relative).data, status=status.HTTP_201_CREATED)


class UsageApi(APIView):
    """Admins: how the space is used, as counts only (never who read or wrote what)."""

    permission_classes = [ADMIN_ONLY]

    @extend_schema(responses={200: s.UsageOut})
    def get(self, request):
        organisation = selectors.require_admin(request.user)
        return Response(s.UsageOut({"modules": selectors.module_use_counts(organisation), **selectors.messaging_counts(organisation)}).data)
