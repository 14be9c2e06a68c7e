"""Pages of the relatives' space: thin views over selectors and services. A refusal from a service is
shown beside the field it names with the form kept as typed (400); nothing is half-saved."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors as access
from backend.accounts.models import PRACTITIONER_ROLES, Role, User
from backend.audit.actor import Actor
from backend.audit.models import AuditEvent
from backend.audit.services import audit_list, audit_record
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.relatives import forms as f
from backend.relatives import selectors, services
from backend.relatives.models import RELATIVE_EVALUATION_WORDING, ForumPost, ModulePage, Section, Supporter
from backend.sessions.hooks import Panel

A = AuditEvent.Action
STAFF_INVITERS = (*PRACTITIONER_ROLES, Role.ADMIN)


def _base(request) -> str:
    return request.build_absolute_uri("/")


def space_page(view):
    """A page for relatives and supporters; anyone else logged in gets a 403 page saying who it is for."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        try:
            space = selectors.space_for(request.user)
        except Forbidden:
            return render(request, "relatives/not_in_space.html", status=403)
        try:
            return view(request, space, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.detail) from error
        except Forbidden:
            return render(request, "consent/not_for_you.html", {"who": "supporters"}, status=403)

    return wrapped


def staff_page(*roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                who = "administrators" if roles == (Role.ADMIN,) else "clinicians, peer support workers and administrators"
                return render(request, "consent/not_for_you.html", {"who": who}, status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(error.detail) from error

        return wrapped

    return decorator


# --- Panels other layers show --------------------------------------------------------------------------------
def home_panel(user):
    """The carer's home (accounts.hooks.HOME_PANELS): the way into the relatives' space, if invited."""
    if user.role != Role.CARER or selectors.relative_of(user) is None:
        return None
    waiting = selectors.threads_visible_to(user).filter(reply_waiting=True).count()
    return "relatives/_home_panel.html", {"waiting": waiting}


def person_page_panel(user, person):
    """The person page (sessions.hooks.PERSON_PAGE_PANELS): each accepted carer link, with a one-click
    invitation to the relatives' space, or where the carer already is in it."""
    if user.role not in STAFF_INVITERS:
        return None
    links = list(access.carer_links_visible_to(user).filter(service_user=person).in_effect())
    invited = set(selectors.relatives_of(user.organisation).filter(user__in=[link.carer_id for link in links]).values_list("user_id", flat=True)) if user.organisation_id else set()
    return Panel("relatives/_person_panel.html", {"rows": [{"link": link, "invited": link.carer_id in invited} for link in links]})


# --- Relatives and supporters ------------------------------------------------------------------------------
@space_page
def home(request, space):
    context = {"space": space}
    if space.relative is not None:
        context["progress"] = selectors.progress_of(space.relative)
        context["waiting"] = selectors.threads_visible_to(request.user).filter(reply_waiting=True).count()
    else:
        context["modules"] = selectors.module_versions_for_reader(request.user)
    if space.is_supporter:
        context["held"] = selectors.held_posts(request.user).count()
        context["open_flags"] = selectors.flags_visible_to(request.user).filter(reviewed_at__isnull=True).count()
    return render(request, "relatives/home.html", context)


@space_page
def module_page(request, space, module_id: int):
    version = selectors.module_for_reader(request.user, module_id)
    opened = set()
    if space.relative is not None:
        opened = set(space.relative.page_opens.filter(module_id=module_id).values_list("page_id", flat=True))
    return render(request, "relatives/module.html", {"version": version, "opened": opened})


@space_page
def page_read(request, space, page_id: int):
    page = selectors.page_for_reader(request.user, page_id)
    services.page_open_record(actor=Actor.from_request(request), page=page)
    version = page.section.version
    pages = list(ModulePage.objects.filter(section__version=version).select_related("section").order_by("section__position", "position", "id"))
    index = next(i for i, p in enumerate(pages) if p.pk == page.pk)
    return render(request, "relatives/page.html", {
        "page": page, "version": version, "paragraphs": [p for p in page.body.split("\n\n") if p.strip()],
        "previous": pages[index - 1] if index > 0 else None, "next": pages[index + 1] if index + 1 < len(pages) else None,
        "number": index + 1, "count": len(pages),
    })


@space_page
@require_http_methods(["GET", "POST"])
def threads(request, space):
    form = f.ThreadStartForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                thread, flag = services.thread_start(actor=Actor.from_request(request), **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                if flag is not None:
                    return redirect(f"{reverse('relatives-help-now')}?back={reverse('relatives-thread', args=[thread.pk])}")
                messages.success(request, "Sent. A supporter will reply here, and we will email you when they do.")
                return redirect("relatives-thread", thread_id=thread.pk)
        status = 400
    rows = list(selectors.threads_visible_to(request.user))
    audit_list(actor=Actor.from_request(request), object_type="relatives.thread", ids=[t.pk for t in rows], detail={"page": "relatives-threads"})
    return render(request, "relatives/threads.html", {"space": space, "threads": rows, "form": form}, status=status)


@space_page
@require_http_methods(["GET", "POST"])
def thread(request, space, thread_id: int):
    actor = Actor.from_request(request)
    found = selectors.thread_for(request.user, thread_id)
    form = f.MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, flag = services.message_send(actor=actor, thread=found, body=form.cleaned_data["body"], request_base_url=_base(request))
            except DomainError as error:
                f.show_error(form, error)
            else:
                if flag is not None:
                    return redirect(f"{reverse('relatives-help-now')}?back={reverse('relatives-thread', args=[found.pk])}")
                messages.success(request, "Sent.")
                return redirect("relatives-thread", thread_id=found.pk)
        status = 400
    audit_record(actor=actor, action=A.READ, obj=found, detail={"page": "relatives-thread"})
    services.thread_opened(actor=actor, thread=found)
    return render(request, "relatives/thread.html", {"space": space, "thread": found, "messages_list": found.messages.select_related("author"),
                                                     "form": form}, status=status)


@space_page
def help_now(request, space):
    back = request.GET.get("back", "")
    if not back.startswith("/relatives/"):
        back = reverse("relatives-home")
    return render(request, "relatives/help_now.html", {"back": back})


@space_page
@require_http_methods(["GET", "POST"])
def forum(request, space):
    form = f.PostForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                post, flag = services.forum_post_create(actor=Actor.from_request(request), **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                return _after_post(request, post, flag)
        status = 400
    posts = list(selectors.posts_visible_to(request.user).filter(parent__isnull=True).exclude(state=ForumPost.State.REMOVED)[:100])
    audit_list(actor=Actor.from_request(request), object_type="relatives.forumpost", ids=[p.pk for p in posts], detail={"page": "relatives-forum"})
    config = selectors.settings_of(space.organisation)
    return render(request, "relatives/forum.html", {"space": space, "posts": posts, "form": form, "config": config}, status=status)


def _after_post(request, post, flag):
    back = reverse("relatives-post", args=[post.parent_id or post.pk])
    if flag is not None:
        return redirect(f"{reverse('relatives-help-now')}?back={back}")
    if post.state == ForumPost.State.HELD:
        messages.success(request, "Thank you. A supporter will read your post before it is shown to others.")
    else:
        messages.success(request, "Posted.")
    return redirect(back)


@space_page
@require_http_methods(["GET", "POST"])
def post(request, space, post_id: int):
    actor = Actor.from_request(request)
    found = selectors.post_for(request.user, post_id)
    if found.parent_id is not None:
        return redirect("relatives-post", post_id=found.parent_id)
    form = f.ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reply, flag = services.forum_post_create(actor=actor, body=form.cleaned_data["body"], parent=found,
                                                         ask_supporter_to_check=form.cleaned_data["ask_supporter_to_check"])
            except DomainError as error:
                f.show_error(form, error)
            else:
                return _after_post(request, reply, flag)
        status = 400
    replies = list(selectors.posts_visible_to(request.user).filter(parent=found).exclude(state=ForumPost.State.REMOVED).order_by("created_at", "id"))
    audit_record(actor=actor, action=A.READ, obj=found, detail={"page": "relatives-post"})
    audit_list(actor=actor, object_type="relatives.forumpost", ids=[r.pk for r in replies], detail={"page": "relatives-post", "parent": found.pk})
    return render(request, "relatives/post.html", {"space": space, "post": found, "replies": replies, "form": form,
                                                   "report_form": f.ReportForm()}, status=status)


@require_POST
@space_page
def post_report(request, space, post_id: int):
    found = selectors.post_for(request.user, post_id)
    form = f.ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why a supporter should look at this post, then press Report again.")
    else:
        try:
            services.forum_post_report(actor=Actor.from_request(request), post=found, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Thank you. A supporter will look at this post.")
    return redirect("relatives-post", post_id=found.parent_id or found.pk)


@require_POST
@space_page
def post_moderate(request, space, post_id: int):
    found = selectors.post_for(request.user, post_id)
    form = f.ModerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Publish or Remove.")
    else:
        try:
            services.forum_post_moderate(actor=Actor.from_request(request), post=found, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Published." if form.cleaned_data["decision"] == "publish" else "Removed.")
    return redirect("relatives-moderation")


@space_page
def moderation(request, space):
    posts = list(selectors.held_posts(request.user))
    audit_list(actor=Actor.from_request(request), object_type="relatives.forumpost", ids=[p.pk for p in posts], detail={"page": "relatives-moderation"})
    return render(request, "relatives/moderation.html", {"posts": posts, "config": selectors.settings_of(space.organisation),
                                                         "open_flags": selectors.open_flag_count(request.user)})


@space_page
def flags(request, space):
    rows = list(selectors.flags_visible_to(request.user)[:200])
    audit_list(actor=Actor.from_request(request), object_type="relatives.safetyflag", ids=[r.pk for r in rows], detail={"page": "relatives-flags"})
    return render(request, "relatives/flags.html", {"flags": rows, "open_flags": selectors.open_flag_count(request.user)})


@require_POST
@space_page
def flag_review(request, space, safety_flag_id: int):
    found = selectors.flag_for(request.user, safety_flag_id)
    services.safety_flag_review(actor=Actor.from_request(request), flag=found)
    messages.success(request, "Marked as looked at.")
    return redirect("relatives-flags")


def flags_waiting(request):
    """The supporters' live count of flagged items waiting (relatives-flags.js asks every 15 seconds; see
    docs/relatives.md, "Live notice"). JSON, never a redirect, so a page that was open when its viewer
    stopped supporting (or left the space) hears 403 at its next ask and says so."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Log in again to see flagged items."}, status=403)
    try:
        count = selectors.open_flag_count(request.user)
    except Forbidden:
        return JsonResponse({"detail": "You no longer support relatives in this space."}, status=403)
    return JsonResponse({"open": count}, headers={"Cache-Control": "no-store"})


# --- A relative's own choices ----------------------------------------------------------------------------------
@space_page
@require_http_methods(["GET", "POST"])
def leave(request, space):
    """The relative ends their own membership, at once (and may take their use out of the evaluation too)."""
    if space.relative is None:
        return render(request, "consent/not_for_you.html", {"who": "relatives in the space"}, status=403)
    if request.method == "POST":
        actor = Actor.from_request(request)
        if request.POST.get("stop_evaluation"):
            services.relative_evaluation_consent_record(actor=actor, given=False)
        services.relative_end(actor=actor, relative=space.relative)
        messages.success(request, f"You have left {space.organisation.name}'s relatives' space. Ask the team if you would like to come back.")
        return redirect("home")
    return render(request, "relatives/leave.html", {"space": space,
                                                    "in_evaluation": _in_evaluation(space.relative)})


def _in_evaluation(relative) -> bool:
    decision = selectors.evaluation_decision_of(relative)
    return decision is not None and decision.decision == decision.Decision.GIVEN


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_choice(request):
    """A relative's say over the evaluation: open after they leave the space too."""
    relative = selectors.membership_latest(request.user)
    if relative is None:
        return render(request, "relatives/not_in_space.html", status=403)
    if request.method == "POST":
        choice = request.POST.get("decision")
        if choice not in ("given", "withdrawn"):
            messages.error(request, "Choose yes or no.")
            return redirect("relatives-evaluation")
        services.relative_evaluation_consent_record(actor=Actor.from_request(request), given=choice == "given")
        messages.success(request, "Saved. Your use of the space is counted in the evaluation." if choice == "given"
                         else "Saved. Nothing new made for the evaluation will include you.")
        return redirect("relatives-evaluation")
    return render(request, "relatives/evaluation.html", {
        "relative": relative, "decision": selectors.evaluation_decision_of(relative), "wording": RELATIVE_EVALUATION_WORDING,
        "in_space": relative.ended_at is None,
    })


# --- Staff ---------------------------------------------------------------------------------------------------
@staff_page(*STAFF_INVITERS)
@require_http_methods(["GET", "POST"])
def staff(request):
    actor = Actor.from_request(request)
    user: User = request.user
    form = f.InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                relative = services.relative_invite(actor=actor, request_base_url=_base(request), **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, f"Invited {relative.user.full_name}. They have been emailed a link to set a password.")
                return redirect("relatives-staff")
        status = 400
    context = {"form": form, "is_admin": user.role == Role.ADMIN, "is_supporter": selectors.supporter_of(user) is not None}
    if user.role == Role.ADMIN:
        relatives = list(selectors.relatives_of(user.organisation))
        audit_list(actor=actor, object_type="relatives.relative", ids=[r.pk for r in relatives], detail={"page": "relatives-staff"})
        context.update(relatives=relatives, supporters=list(selectors.supporters_of(user.organisation)),
                       usage=selectors.module_use_counts(user.organisation), counts=selectors.messaging_counts(user.organisation),
                       supporter_form=f.SupporterForm(prefix="supporter"), settings_form=_settings_form(user))
    return render(request, "relatives/staff.html", context, status=status)


def _settings_form(user, data=None):
    row = selectors.settings_of(user.organisation)
    return f.SettingsForm(data, prefix="settings", initial={"forum_mode": row.forum_mode, "max_post_characters": row.max_post_characters, "risk_words": row.risk_words})


@staff_page(*STAFF_INVITERS)
@require_POST
def invite_from_link(request, link_id: int):
    link = access.carer_link_for(request.user, link_id)
    try:
        relative = services.relative_invite_from_link(actor=Actor.from_request(request), link=link, request_base_url=_base(request))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Invited {relative.user.full_name} to the relatives' space. We have emailed them.")
    return redirect("person-page", service_user_id=link.service_user_id)


@staff_page(Role.ADMIN)
@require_POST
def supporter_add(request):
    form = f.SupporterForm(request.POST, prefix="supporter")
    if form.is_valid():
        person = User.objects.filter(email=form.cleaned_data["email"].lower(), is_active=True).first()
        try:
            if person is None:
                raise NotFound("There is no account with this email address in your organisation.", field="email")
            services.supporter_add(actor=Actor.from_request(request), user=person)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"{person.full_name} is now a supporter.")
    else:
        messages.error(request, "Give the email address of the person to make a supporter.")
    return redirect("relatives-staff")


@staff_page(Role.ADMIN)
@require_POST
def supporter_end(request, supporter_id: int):
    supporter = Supporter.objects.filter(pk=supporter_id, organisation=request.user.organisation, ended_at__isnull=True).first()
    if supporter is None:
        raise Http404("No such supporter.")
    services.supporter_end(actor=Actor.from_request(request), supporter=supporter)
    messages.success(request, f"{supporter.user.full_name} is no longer a supporter.")
    return redirect("relatives-staff")


@staff_page(Role.ADMIN)
@require_POST
def relative_end(request, relative_id: int):
    relative = selectors.relative_for_admin(request.user, relative_id)
    try:
        services.relative_end(actor=Actor.from_request(request), relative=relative)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{relative.user.full_name} is no longer in the relatives' space. Their next page shows that at once.")
    return redirect("relatives-staff")


@staff_page(Role.ADMIN)
@require_POST
def settings_save(request):
    form = _settings_form(request.user, request.POST)
    if form.is_valid():
        try:
            services.settings_update(actor=Actor.from_request(request), **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Saved the forum settings.")
    else:
        messages.error(request, "; ".join(f"{form.fields[k].label}: {v[0]}" for k, v in form.errors.items()))
    return redirect("relatives-staff")


@staff_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_modules(request):
    actor = Actor.from_request(request)
    form = f.ModuleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if "starter" in request.POST:
            made = services.starter_module_install(actor=actor, organisation=request.user.organisation)
            messages.success(request, f"Added {len(made)} starter module{'s' if len(made) != 1 else ''}.")
            return redirect("relatives-admin-modules")
        if form.is_valid():
            try:
                version = services.module_create(actor=actor, **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                return redirect("relatives-admin-module", module_id=version.module_id)
        status = 400
    modules = [{"module": m, "versions": sorted(m.versions.all(), key=lambda v: v.number)} for m in selectors.modules_for_admin(request.user)]
    for row in modules:
        row["title"] = row["versions"][-1].title
    return render(request, "relatives/admin_modules.html", {"modules": modules, "form": form}, status=status)


@staff_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_module(request, module_id: int):
    actor = Actor.from_request(request)
    module = selectors.module_for_admin(request.user, module_id)
    draft = selectors.draft_of(module)
    forms_ = {"details": f.ModuleForm(initial={"title": draft.title, "summary": draft.summary} if draft else None),
              "section": f.SectionForm(), "page": f.PageForm(sections=draft.sections.all() if draft else ()), "resource": f.ResourceForm()}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "new_version":
                services.draft_start(actor=actor, module=module)
                messages.success(request, "Started a new version. The published one stays as it is until you publish this.")
                return redirect("relatives-admin-module", module_id=module.pk)
            if draft is None:
                raise NotFound("Start a new version to edit this module.", field="action")
            if action == "move_page":
                page = ModulePage.objects.filter(pk=request.POST.get("page_id") or 0, section__version=draft).first() \
                    if (request.POST.get("page_id") or "").isdigit() else None
                if page is None:
                    raise NotFound("No such page in the draft.", field="page_id")
                services.page_move(actor=actor, page=page, direction=request.POST.get("direction", ""))
                messages.success(request, f"Moved \u201c{page.title}\u201d {request.POST.get('direction')}.")
                return redirect("relatives-admin-module", module_id=module.pk)
            if action == "publish":
                services.version_publish(actor=actor, version=draft)
                messages.success(request, f"Published version {draft.number}. Relatives now read it.")
                return redirect("relatives-admin-module", module_id=module.pk)
            form = {"details": f.ModuleForm, "section": f.SectionForm, "resource": f.ResourceForm}.get(action)
            if action == "page":
                bound = f.PageForm(request.POST, sections=draft.sections.all())
            elif form is not None:
                bound = form(request.POST)
            else:
                raise NotFound("Unknown action.", field="action")
            forms_[action] = bound
            if bound.is_valid():
                data = bound.cleaned_data
                if action == "details":
                    services.draft_update(actor=actor, version=draft, **data)
                elif action == "section":
                    services.section_add(actor=actor, version=draft, **data)
                elif action == "resource":
                    services.resource_add(actor=actor, version=draft, **data)
                else:
                    section = Section.objects.get(pk=data.pop("section"), version=draft)
                    services.page_add(actor=actor, section=section, **data)
                messages.success(request, "Saved in the draft.")
                return redirect("relatives-admin-module", module_id=module.pk)
            status = 400
        except DomainError as error:
            target = forms_.get(action)
            if target is not None and action in forms_:
                f.show_error(target, error)
            else:
                messages.error(request, error.detail)
            status = 400
    latest = module.versions.order_by("-number").first()
    return render(request, "relatives/admin_module.html", {
        "module": module, "draft": selectors.version_content(draft) if draft else None,
        "published": [v for v in module.versions.order_by("-number") if v.is_published], "latest": latest, "forms": forms_,
    }, status=status)


@staff_page(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def admin_page_edit(request, page_id: int):
    page = ModulePage.objects.select_related("section__version__module").filter(pk=page_id).first()
    if page is None:
        raise Http404("No such page.")
    selectors.module_for_admin(request.user, page.section.version.module_id)
    form = f.PageEditForm(request.POST or None, initial={"title": page.title, "body": page.body})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.page_update(actor=Actor.from_request(request), page=page, **form.cleaned_data)
            except DomainError as error:
                f.show_error(form, error)
            else:
                messages.success(request, "Saved in the draft.")
                return redirect("relatives-admin-module", module_id=page.section.version.module_id)
        status = 400
    return render(request, "relatives/admin_page.html", {"page": page, "form": form, "published": page.section.version.is_published}, status=status)
