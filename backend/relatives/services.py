"""Actions in the relatives' space. Each is one transaction that writes its own audit event; who may
act is checked here (through selectors), so a page and an API call refuse alike."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from backend.accounts import invitations
from backend.accounts import selectors as access
from backend.accounts import services as accounts
from backend.accounts.models import PRACTITIONER_ROLES, STAFF_ROLES, CarerLink, Organisation, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_record
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.relatives import safety, selectors
from backend.relatives.models import (
    ForumPost,
    ForumReport,
    Module,
    ModulePage,
    ModuleResource,
    ModuleVersion,
    PageOpen,
    Relative,
    RelativeEvaluationConsent,
    RelativesSettings,
    SafetyFlag,
    Section,
    Supporter,
    Thread,
    ThreadMessage,
)
from backend.relatives.models import RELATIVE_EVALUATION_WORDING_VERSION

A = AuditEvent.Action
logger = logging.getLogger(__name__)

READING_GAP_SECONDS = 30 * 60
MESSAGE_MAX_CHARACTERS = 4000
INFORMATION_NOT_ADVICE = "Information, not advice"


def _base_url(request_base_url: str | None) -> str:
    return (request_base_url or settings.SITE_URL).rstrip("/")


def _text(value: str, *, field: str, limit: int, noun: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"Write your {noun}.", field=field, code="required")
    if len(value) > limit:
        raise InvalidInput(f"Your {noun} is {len(value)} characters long; the most is {limit}. Shorten it and send it again.",
                           field=field, code="too_long")
    return value


# --- Inviting relatives ------------------------------------------------------------------------------------------
def _membership_open(*, actor: Actor, organisation: Organisation, user: User, link: CarerLink | None) -> Relative:
    if Relative.objects.filter(organisation=organisation, user=user, ended_at__isnull=True).exists():
        raise Conflict("This person is already in the relatives' space.", field="email", code="already_invited")
    relative = Relative.objects.create(organisation=organisation, user=user, carer_link=link, invited_by=actor.user)
    audit_record(actor=actor, action=A.CREATE, obj=relative,
                 detail={"organisation": organisation.pk, "relative": user.pk, "carer_link": link.pk if link else None})
    return relative


def _welcome(*, user: User, organisation: Organisation, request_base_url: str | None) -> None:
    """An invitation link for someone with no password yet; a note that the space is open for someone
    who already logs in (a carer already involved through a carer link)."""
    context = {"organisation": organisation}
    if not user.has_usable_password():
        invitations.invitation_deliver(user=user, template="relatives/email/invitation.txt", context=context,
                                       subject="You are invited to the relatives' space in Rapport: set your password",
                                       request_base_url=request_base_url)
        return
    link = _base_url(request_base_url) + reverse("relatives-home")
    send_mail("The relatives' space in Rapport is open to you",
              render_to_string("relatives/email/welcome.txt", {"user": user, "link": link, **context}), None, [user.email],
              fail_silently=False)


def relative_invite_from_link(*, actor: Actor, link: CarerLink, request_base_url: str | None = None, notify: bool = True) -> Relative:
    """A practitioner who may see the service user (or an admin of their organisation) invites the carer
    of an accepted carer link into their organisation's relatives' space. The link still governs what
    the carer may see of that person's care; the space shares nothing of it."""
    user = actor.user
    if user is None or user.role not in (*PRACTITIONER_ROLES, Role.ADMIN):
        raise Forbidden("Clinicians, peer support workers and administrators invite relatives.")
    visible = access.service_users_visible_to(user) if user.role != Role.ADMIN else access.users_for_admin(user)
    if not visible.filter(pk=link.service_user_id).exists():
        raise NotFound(f"No carer link {link.pk} that you can see.", field="carer_link_id")
    if not link.is_active or link.carer is None:
        raise Conflict("Only a carer who has accepted the link can be invited: the person's invitation to them is still waiting.",
                       field="carer_link_id", code="link_not_accepted")
    with transaction.atomic():
        relative = _membership_open(actor=actor, organisation=user.organisation, user=link.carer, link=link)
        if notify:  # seed_demo only: its accounts have passwords and nobody to email
            _welcome(user=link.carer, organisation=user.organisation, request_base_url=request_base_url)
    return relative


def relative_invite(*, actor: Actor, email: str, full_name: str, request_base_url: str | None = None, notify: bool = True) -> Relative:
    """Staff invite a relative not linked to any one person's care: a carer account with no link (made
    here, with no password, if the address has no account), emailed a set-password invitation."""
    user = actor.user
    if user is None or user.role not in (*PRACTITIONER_ROLES, Role.ADMIN) or user.organisation_id is None:
        raise Forbidden("Clinicians, peer support workers and administrators invite relatives.")
    email = User.objects.normalize_email((email or "").strip()).lower()
    full_name = (full_name or "").strip()
    if not full_name:
        raise InvalidInput("Give the relative's name.", field="full_name", code="required")
    with transaction.atomic():
        existing = User.objects.filter(email=email).first()
        if existing is not None and existing.role != Role.CARER:
            raise Conflict("This email address belongs to an account that is not a carer's: use another address.",
                           field="email", code="email_taken")
        relative_user = existing or accounts.user_create(actor=actor, email=email, full_name=full_name, role=Role.CARER, password=None)
        relative = _membership_open(actor=actor, organisation=user.organisation, user=relative_user, link=None)
        # Sent inside the transaction: if the mail server refuses, nobody is half-invited.
        if notify:
            _welcome(user=relative_user, organisation=user.organisation, request_base_url=request_base_url)
    return relative


def relative_end(*, actor: Actor, relative: Relative) -> Relative:
    """End a relative's membership: the relative leaving, or an administrator of the organisation ending it.
    It takes effect at once: every page, API call and the supporters' live count asks `space_for`, which
    reads the open membership on each request, so the next request of an open page is refused. A trained
    relative who supports others stops supporting too (a supporter who is a relative must be in the space)."""
    user = actor.user
    leaving = user is not None and user.is_authenticated and relative.user_id == user.pk
    if not leaving:
        organisation = selectors.require_admin(user)
        if relative.organisation_id != organisation.pk:
            raise NotFound(f"No relative {relative.pk} that you can see.", field="relative_id")
    with transaction.atomic():
        relative = Relative.objects.select_for_update().get(pk=relative.pk)
        if relative.ended_at is not None:
            raise Conflict("This membership has already ended.", field="relative_id", code="already_ended")
        relative.ended_at = timezone.now()
        relative.save(update_fields=["ended_at"])
        ended_support = list(Supporter.objects.select_for_update().filter(
            organisation_id=relative.organisation_id, user_id=relative.user_id, kind=Supporter.Kind.TRAINED_RELATIVE, ended_at__isnull=True))
        for supporter in ended_support:
            supporter.ended_at = relative.ended_at
            supporter.save(update_fields=["ended_at"])
            audit_record(actor=actor, action=A.UPDATE, obj=supporter, detail={"ended": True, "with_membership": relative.pk})
        audit_record(actor=actor, action=A.UPDATE, obj=relative, detail={"ended": True, "by": "relative" if leaving else "admin"})
    return relative


def relative_evaluation_consent_record(*, actor: Actor, given: bool) -> RelativeEvaluationConsent:
    """The relative's own decision whether their use of the space is in the evaluation (docs/relatives.md).
    Open to anyone who has been a relative in a space, an ended membership included: leaving never takes
    away the say over what was counted."""
    relative = selectors.membership_latest(actor.user)
    if relative is None:
        raise Forbidden("Only relatives in the space decide this, each for themselves.", field="decision", code="not_a_relative")
    with transaction.atomic():
        Relative.objects.select_for_update().get(pk=relative.pk)  # one decision at a time: the latest row governs
        decision = RelativeEvaluationConsent.Decision.GIVEN if given else RelativeEvaluationConsent.Decision.WITHDRAWN
        record = RelativeEvaluationConsent.objects.create(relative=relative, decision=decision, wording_version=RELATIVE_EVALUATION_WORDING_VERSION)
        audit_record(actor=actor, action=A.CREATE, obj=record, detail={"decision": decision, "wording_version": record.wording_version})
    return record


# --- Supporters ---------------------------------------------------------------------------------------------------
def supporter_add(*, actor: Actor, user: User) -> Supporter:
    """An admin marks a member of staff, or a relative in the space they trained, as a supporter."""
    organisation = selectors.require_admin(actor.user)
    if user.role in STAFF_ROLES and user.organisation_id == organisation.pk and user.role != Role.EVALUATOR:
        kind = Supporter.Kind.STAFF
    elif Relative.objects.filter(organisation=organisation, user=user, ended_at__isnull=True).exists():
        kind = Supporter.Kind.TRAINED_RELATIVE
    else:
        raise InvalidInput("Supporters are staff of this organisation (not evaluators) or relatives in its space.",
                           field="user_id", code="not_eligible")
    try:
        with transaction.atomic():
            supporter = Supporter.objects.create(organisation=organisation, user=user, kind=kind, added_by=actor.user)
            audit_record(actor=actor, action=A.CREATE, obj=supporter, detail={"user": user.pk, "kind": kind})
    except IntegrityError as error:
        raise Conflict("This person is already a supporter.", field="user_id", code="already_supporter") from error
    return supporter


def supporter_end(*, actor: Actor, supporter: Supporter) -> None:
    organisation = selectors.require_admin(actor.user)
    if supporter.organisation_id != organisation.pk:
        raise NotFound(f"No supporter {supporter.pk} that you can see.", field="supporter_id")
    with transaction.atomic():
        supporter.ended_at = timezone.now()
        supporter.save(update_fields=["ended_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=supporter, detail={"ended": True})


def settings_update(*, actor: Actor, forum_mode: str, max_post_characters: int, risk_words: str) -> RelativesSettings:
    organisation = selectors.require_admin(actor.user)
    if forum_mode not in RelativesSettings.ForumMode.values:
        raise InvalidInput("Choose how the forum is moderated.", field="forum_mode", code="invalid_choice")
    if not 100 <= max_post_characters <= 10000:
        raise InvalidInput("A post's size limit is between 100 and 10,000 characters.", field="max_post_characters", code="out_of_range")
    with transaction.atomic():
        row = RelativesSettings.objects.select_for_update().get_or_create(organisation=organisation)[0]
        row.forum_mode, row.max_post_characters, row.risk_words = forum_mode, max_post_characters, risk_words.strip()
        row.updated_at = timezone.now()
        row.save(update_fields=["forum_mode", "max_post_characters", "risk_words", "updated_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=row, detail={"forum_mode": forum_mode, "max_post_characters": max_post_characters,
                                                                    "risk_words": len(safety.risk_words_of(row.risk_words))})
    return row


# --- The module library ----------------------------------------------------------------------------------------------
def _draft(version: ModuleVersion) -> ModuleVersion:
    if version.is_published:
        raise Conflict("A published version never changes: start a new version to edit it.", field="version", code="published")
    return version


def module_create(*, actor: Actor, title: str, summary: str = "") -> ModuleVersion:
    organisation = selectors.require_admin(actor.user)
    title = _text(title, field="title", limit=200, noun="title")
    with transaction.atomic():
        position = Module.objects.filter(organisation=organisation).count()
        module = Module.objects.create(organisation=organisation, position=position, created_by=actor.user)
        version = ModuleVersion.objects.create(module=module, number=1, title=title, summary=summary.strip(), created_by=actor.user)
        audit_record(actor=actor, action=A.CREATE, obj=module, detail={"title": title, "version": 1})
    return version


def draft_start(*, actor: Actor, module: Module) -> ModuleVersion:
    """Edit a module: a new draft version copied from the newest one (the published one stays as it was)."""
    selectors.module_for_admin(actor.user, module.pk)
    with transaction.atomic():
        Module.objects.select_for_update().get(pk=module.pk)
        latest = module.versions.order_by("-number").first()
        if not latest.is_published:
            return latest
        draft = ModuleVersion.objects.create(module=module, number=latest.number + 1, title=latest.title, summary=latest.summary,
                                             created_by=actor.user)
        for section in latest.sections.prefetch_related("pages"):
            copy = Section.objects.create(version=draft, position=section.position, title=section.title)
            ModulePage.objects.bulk_create([ModulePage(section=copy, position=p.position, title=p.title, body=p.body) for p in section.pages.all()])
        ModuleResource.objects.bulk_create([ModuleResource(version=draft, position=r.position, title=r.title, url=r.url, description=r.description)
                                            for r in latest.resources.all()])
        audit_record(actor=actor, action=A.CREATE, obj=draft, detail={"module": module.pk, "from_version": latest.number})
    return draft


def _admin_version(actor: Actor, version: ModuleVersion) -> ModuleVersion:
    selectors.module_for_admin(actor.user, version.module_id)
    return _draft(version)


def draft_update(*, actor: Actor, version: ModuleVersion, title: str, summary: str) -> ModuleVersion:
    _admin_version(actor, version)
    with transaction.atomic():
        version.title, version.summary = _text(title, field="title", limit=200, noun="title"), summary.strip()
        version.save(update_fields=["title", "summary"])
        audit_record(actor=actor, action=A.UPDATE, obj=version, detail={"changed": ["title", "summary"]})
    return version


def section_add(*, actor: Actor, version: ModuleVersion, title: str) -> Section:
    _admin_version(actor, version)
    with transaction.atomic():
        section = Section.objects.create(version=version, position=version.sections.count() + 1,
                                         title=_text(title, field="title", limit=200, noun="section title"))
        audit_record(actor=actor, action=A.CREATE, obj=section, detail={"version": version.pk})
    return section


def page_add(*, actor: Actor, section: Section, title: str, body: str) -> ModulePage:
    _admin_version(actor, section.version)
    with transaction.atomic():
        page = ModulePage.objects.create(section=section, position=section.pages.count() + 1,
                                         title=_text(title, field="title", limit=200, noun="page title"),
                                         body=_text(body, field="body", limit=20000, noun="page"))
        audit_record(actor=actor, action=A.CREATE, obj=page, detail={"section": section.pk})
    return page


def page_update(*, actor: Actor, page: ModulePage, title: str, body: str) -> ModulePage:
    _admin_version(actor, page.section.version)
    with transaction.atomic():
        page.title = _text(title, field="title", limit=200, noun="page title")
        page.body = _text(body, field="body", limit=20000, noun="page")
        page.save(update_fields=["title", "body"])
        audit_record(actor=actor, action=A.UPDATE, obj=page, detail={"changed": ["title", "body"]})
    return page


def page_move(*, actor: Actor, page: ModulePage, direction: str) -> ModulePage:
    """Move a draft's page one place up or down within its section (the section's pages are numbered 1, 2, ...
    again first, so earlier gaps or ties cannot stop a move). At either end the page stays where it is."""
    if direction not in ("up", "down"):
        raise InvalidInput("Choose up or down.", field="direction", code="invalid_choice")
    page = ModulePage.objects.select_related("section__version").get(pk=page.pk)  # as stored now, not as the caller last saw it
    _admin_version(actor, page.section.version)
    with transaction.atomic():
        ModuleVersion.objects.select_for_update().get(pk=page.section.version_id)  # publishing locks it too: never a move into a published version
        _draft(ModuleVersion.objects.get(pk=page.section.version_id))
        pages = list(ModulePage.objects.filter(section_id=page.section_id).order_by("position", "id"))
        index = next(i for i, p in enumerate(pages) if p.pk == page.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(pages):
            pages[index], pages[other] = pages[other], pages[index]
        for number, p in enumerate(pages, start=1):
            p.position = number
        ModulePage.objects.bulk_update(pages, ["position"])
        moved = next(p for p in pages if p.pk == page.pk)
        audit_record(actor=actor, action=A.UPDATE, obj=moved, detail={"moved": direction, "position": moved.position})
    return moved


def resource_add(*, actor: Actor, version: ModuleVersion, title: str, url: str = "", description: str = "") -> ModuleResource:
    _admin_version(actor, version)
    with transaction.atomic():
        resource = ModuleResource.objects.create(version=version, position=version.resources.count() + 1,
                                                 title=_text(title, field="title", limit=200, noun="resource name"),
                                                 url=url.strip(), description=description.strip())
        audit_record(actor=actor, action=A.CREATE, obj=resource, detail={"version": version.pk})
    return resource


def version_publish(*, actor: Actor, version: ModuleVersion) -> ModuleVersion:
    _admin_version(actor, version)
    with transaction.atomic():
        locked = ModuleVersion.objects.select_for_update().get(pk=version.pk)
        _draft(locked)
        if not ModulePage.objects.filter(section__version=locked).exists():
            raise InvalidInput("A module needs at least one page before it is published.", field="pages", code="empty")
        locked.published_at, locked.published_by = timezone.now(), actor.user
        locked.save(update_fields=["published_at", "published_by"])
        audit_record(actor=actor, action=A.UPDATE, obj=locked, detail={"published": True, "module": locked.module_id, "number": locked.number})
    return locked


def starter_module_install(*, actor: Actor, organisation: Organisation) -> list[ModuleVersion]:
    """Add Rapport's starter modules (backend/relatives/starter.py), published, to an organisation's
    library. Done by an admin (or seed_demo); modules already there are left alone."""
    from backend.relatives.starter import STARTER_MODULES

    user = actor.user
    if user is not None and not (user.role == Role.ADMIN and user.organisation_id == organisation.pk):
        raise Forbidden("Only the organisation's administrators add modules.")
    made = []
    with transaction.atomic():
        existing = set(ModuleVersion.objects.filter(module__organisation=organisation).values_list("title", flat=True))
        for spec in STARTER_MODULES:
            if spec["title"] in existing:
                continue
            module = Module.objects.create(organisation=organisation, position=Module.objects.filter(organisation=organisation).count(),
                                           created_by=user)
            version = ModuleVersion.objects.create(module=module, number=1, title=spec["title"], summary=spec["summary"], created_by=user,
                                                   published_at=timezone.now(), published_by=user)
            for s_pos, (section_title, pages) in enumerate(spec["sections"], start=1):
                section = Section.objects.create(version=version, position=s_pos, title=section_title)
                ModulePage.objects.bulk_create([ModulePage(section=section, position=p_pos, title=t, body=b)
                                                for p_pos, (t, b) in enumerate(pages, start=1)])
            ModuleResource.objects.bulk_create([ModuleResource(version=version, position=r_pos, **r)
                                                for r_pos, r in enumerate(spec["resources"], start=1)])
            audit_record(actor=actor, action=A.CREATE, obj=module, detail={"starter": True, "title": spec["title"]})
            made.append(version)
    return made


def page_open_record(*, actor: Actor, page: ModulePage) -> PageOpen:
    """A relative opened a page: kept for their own progress; the previous page of the same sitting gets
    the time until now (capped at READING_GAP_SECONDS, after which the sitting is taken to have ended)."""
    relative = selectors.relative_of(actor.user)
    if relative is None:
        return None  # supporters read modules too; only relatives' reading is progress
    now = timezone.now()
    with transaction.atomic():
        previous = PageOpen.objects.select_for_update().filter(relative=relative, seconds__isnull=True).order_by("-opened_at", "-id").first()
        if previous is not None:
            gap = (now - previous.opened_at).total_seconds()
            previous.seconds = int(min(max(gap, 0), READING_GAP_SECONDS)) if gap < READING_GAP_SECONDS else 0
            previous.save(update_fields=["seconds"])
        opened = PageOpen.objects.create(relative=relative, page=page, module_id=page.section.version.module_id, opened_at=now)
    return opened


# --- Safety -----------------------------------------------------------------------------------------------------------
def _flag(*, actor: Actor, organisation: Organisation, text: str, message: ThreadMessage | None = None,
          post: ForumPost | None = None) -> SafetyFlag | None:
    words = safety.risk_words_in(text, safety.risk_words_of(selectors.settings_of(organisation).risk_words))
    if not words:
        return None
    flag = SafetyFlag.objects.create(organisation=organisation, message=message, post=post, words=words)
    audit_record(actor=actor, action=A.CREATE, obj=flag, detail={"message": message.pk if message else None, "post": post.pk if post else None,
                                                                 "words": words})
    return flag


def safety_flag_review(*, actor: Actor, flag: SafetyFlag) -> SafetyFlag:
    """A supporter has looked at a flagged item (what they did is theirs to record in the conversation)."""
    flag = selectors.flag_for(actor.user, flag.pk)
    with transaction.atomic():
        flag.reviewed_by, flag.reviewed_at = actor.user, timezone.now()
        flag.save(update_fields=["reviewed_by", "reviewed_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=flag, detail={"reviewed": True})
    return flag


# --- Messages with supporters --------------------------------------------------------------------------------------------
def thread_start(*, actor: Actor, subject: str, body: str) -> tuple[Thread, SafetyFlag | None]:
    """A relative writes to the supporters. Only relatives start conversations."""
    relative = selectors.relative_of(actor.user)
    if relative is None:
        raise Forbidden("Only relatives in the space write to a supporter.", field="author", code="not_a_relative")
    subject = _text(subject, field="subject", limit=200, noun="subject")
    body = _text(body, field="body", limit=MESSAGE_MAX_CHARACTERS, noun="message")
    with transaction.atomic():
        thread = Thread.objects.create(organisation=relative.organisation, relative=relative, subject=subject)
        audit_record(actor=actor, action=A.CREATE, obj=thread, detail={"relative": relative.pk})
        _, flag = _message_write(actor=actor, thread=thread, body=body, by_supporter=False)
    return thread, flag


def _message_write(*, actor: Actor, thread: Thread, body: str, by_supporter: bool) -> tuple[ThreadMessage, SafetyFlag | None]:
    message = ThreadMessage.objects.create(thread=thread, author=actor.user, by_supporter=by_supporter, body=body)
    thread.last_message_at = message.created_at
    thread.reply_waiting = by_supporter
    thread.save(update_fields=["last_message_at", "reply_waiting"])
    audit_record(actor=actor, action=A.CREATE, obj=message, detail={"thread": thread.pk, "by_supporter": by_supporter})
    flag = None if by_supporter else _flag(actor=actor, organisation=thread.organisation, text=body, message=message)
    return message, flag


def message_send(*, actor: Actor, thread: Thread, body: str, request_base_url: str | None = None) -> tuple[ThreadMessage, SafetyFlag | None]:
    """The relative, or one of the organisation's supporters, adds to a conversation. A supporter's reply
    emails the relative that a reply is waiting (the words stay in Rapport)."""
    space = selectors.space_for(actor.user)  # Forbidden for anyone not in a space
    thread = selectors.thread_for(actor.user, thread.pk)
    by_supporter = space.is_supporter and (space.relative is None or space.relative.pk != thread.relative_id)
    if not by_supporter and (space.relative is None or space.relative.pk != thread.relative_id):
        raise Forbidden("Only the relative and the supporters write in this conversation.")
    body = _text(body, field="body", limit=MESSAGE_MAX_CHARACTERS, noun="message")
    with transaction.atomic():
        message, flag = _message_write(actor=actor, thread=thread, body=body, by_supporter=by_supporter)
        if by_supporter:
            relative_user = thread.relative.user
            link = _base_url(request_base_url) + reverse("relatives-thread", kwargs={"thread_id": thread.pk})
            transaction.on_commit(lambda: _reply_email(relative_user, link))
    return message, flag


def _reply_email(user: User, link: str) -> None:
    try:
        send_mail("A reply is waiting for you in Rapport", render_to_string("relatives/email/reply_waiting.txt", {"user": user, "link": link}),
                  None, [user.email], fail_silently=False)
    except Exception:  # noqa: BLE001 - the reply is saved and shown on their home page; a mail failure must not lose it
        logger.exception("Could not email user %s that a reply is waiting", user.pk)


def thread_opened(*, actor: Actor, thread: Thread) -> None:
    if thread.reply_waiting and thread.relative.user_id == actor.user.pk:
        thread.reply_waiting = False
        thread.save(update_fields=["reply_waiting"])


# --- The forum ------------------------------------------------------------------------------------------------------------
def forum_post_create(*, actor: Actor, title: str = "", body: str, parent: ForumPost | None = None,
                      ask_supporter_to_check: bool = False) -> tuple[ForumPost, SafetyFlag | None]:
    """Post in the forum (or reply to a post). Refused, with nothing saved, when it is over the size limit
    or names someone on the organisation's caseloads, unless the writer asks a supporter to check it
    (a false positive: then it is held whatever the forum's mode, and a supporter decides)."""
    space = selectors.space_for(actor.user)
    organisation = space.organisation
    config = selectors.settings_of(organisation)
    if parent is not None:
        parent = selectors.post_for(actor.user, parent.pk)
        if parent.state != ForumPost.State.PUBLISHED or parent.parent_id is not None:
            raise InvalidInput("You can reply only to a published post.", field="parent_id", code="not_published")
    title = (title or "").strip()
    if parent is None and not title:
        raise InvalidInput("Give your post a title.", field="title", code="required")
    if len(title) > 200:
        raise InvalidInput(f"The title is {len(title)} characters long; the most is 200.", field="title", code="too_long")
    body = _text(body, field="body", limit=config.max_post_characters, noun="post")
    names = selectors.caseload_names(organisation)
    named = safety.names_in(f"{title}\n{body}", names)
    if named and not ask_supporter_to_check:
        raise InvalidInput(
            "Your post seems to include the name of someone our service cares for. To keep everyone's care private, "
            "the forum never names a service user: take out names of people (you can say \"my son\" or \"my partner\"). "
            "If you have not named anyone, tick \"Ask a supporter to check my post\" and a supporter will read it before it is shown.",
            field="body", code="names_a_person")
    if named or config.forum_mode == config.ForumMode.HELD:
        state, reason = ForumPost.State.HELD, ("name_check" if named else "forum_mode")
    else:
        state, reason = ForumPost.State.PUBLISHED, ""
    with transaction.atomic():
        post = ForumPost.objects.create(organisation=organisation, author=space.relative, author_user=actor.user, parent=parent,
                                        title=title, body=body, state=state, held_reason=reason)
        audit_record(actor=actor, action=A.CREATE, obj=post, detail={"state": state, "held_reason": reason, "parent": parent.pk if parent else None})
        flag = _flag(actor=actor, organisation=organisation, text=f"{title}\n{body}", post=post)
    return post, flag


def forum_post_report(*, actor: Actor, post: ForumPost, reason: str) -> ForumReport:
    post = selectors.post_for(actor.user, post.pk)
    if post.state != ForumPost.State.PUBLISHED:
        raise Conflict("Only a published post can be reported.", field="post_id", code="not_published")
    reason = _text(reason, field="reason", limit=500, noun="reason")
    try:
        with transaction.atomic():
            report = ForumReport.objects.create(post=post, reported_by=actor.user, reason=reason)
            audit_record(actor=actor, action=A.CREATE, obj=report, detail={"post": post.pk})
    except IntegrityError as error:
        raise Conflict("You have already reported this post; a supporter will look at it.", field="post_id", code="already_reported") from error
    return report


def forum_post_moderate(*, actor: Actor, post: ForumPost, decision: str, note: str = "") -> ForumPost:
    """A supporter publishes a held post, or removes a post (held, or published and reported)."""
    selectors.require_supporter(actor.user)
    post = selectors.post_for(actor.user, post.pk)
    targets = {"publish": ForumPost.State.PUBLISHED, "remove": ForumPost.State.REMOVED}
    if decision not in targets:
        raise InvalidInput("Choose publish or remove.", field="decision", code="invalid_choice")
    if decision == "publish" and post.state != ForumPost.State.HELD:
        raise Conflict("Only a post waiting for a supporter can be published.", field="decision", code="not_held")
    if post.state == ForumPost.State.REMOVED:
        raise Conflict("This post has already been removed.", field="decision", code="removed")
    if len(note) > 500:
        raise InvalidInput("The note is longer than 500 characters.", field="note", code="too_long")
    with transaction.atomic():
        post.state, post.moderated_by, post.moderated_at, post.moderation_note = targets[decision], actor.user, timezone.now(), note.strip()
        post.save(update_fields=["state", "moderated_by", "moderated_at", "moderation_note"])
        audit_record(actor=actor, action=A.UPDATE, obj=post, detail={"decision": decision})
    return post
