"""Who may see what in the relatives' space: one rule per kind of object, written once.

- The space itself: a relative (an open `Relative` row) or a supporter (an open `Supporter` row) of an
  organisation; admins of that organisation manage it. Anyone else is refused (403).
- Modules: relatives and supporters read the newest published version of their organisation's
  modules; admins of the organisation also see and edit drafts.
- Threads: the relative whose thread it is, and the organisation's supporters.
- Forum posts: published posts to everyone in the space; a held post to its writer and supporters;
  a removed post to supporters only.
- Safety flags: the organisation's supporters only.
- Reading progress: a relative sees their own; staff see counts per module only (`module_use_counts`).

Clinical records are not here: a relative is an account with the carer role, and what a carer may see
of a person's care flows only through accounts.selectors.sharing_carer_links (carer link + consent).
An object outside the asker's view answers as one that does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from backend.accounts.models import CaseloadEntry, Organisation, OrganisationRegistration, Role, User
from backend.core.errors import Forbidden, NotFound, one_visible
from backend.relatives.models import (
    ForumPost,
    Module,
    ModulePage,
    ModuleVersion,
    PageOpen,
    RELATIVE_EVALUATION_WORDING_VERSION,
    Relative,
    RelativeEvaluationConsent,
    RelativesSettings,
    SafetyFlag,
    Section,
    Supporter,
    Thread,
    ThreadMessage,
)


@dataclass(frozen=True)
class Space:
    """Where someone stands in an organisation's relatives' space."""

    organisation: Organisation
    relative: Relative | None
    supporter: Supporter | None

    @property
    def is_supporter(self) -> bool:
        return self.supporter is not None


def relative_of(user: User) -> Relative | None:
    if not user.is_authenticated or user.role != Role.CARER:
        return None
    return Relative.objects.select_related("organisation").filter(user=user, ended_at__isnull=True).order_by("invited_at", "id").first()


def supporter_of(user: User) -> Supporter | None:
    if not user.is_authenticated:
        return None
    return Supporter.objects.select_related("organisation").filter(user=user, ended_at__isnull=True).order_by("added_at", "id").first()


def space_for(user: User) -> Space:
    """The space `user` is in, as a relative, a supporter or both; Forbidden for anyone else."""
    relative, supporter = relative_of(user), supporter_of(user)
    if relative is None and supporter is None:
        raise Forbidden("The relatives' space is for relatives the team has invited, and their supporters.")
    organisation = (supporter or relative).organisation
    if relative is not None and supporter is not None and relative.organisation_id != supporter.organisation_id:
        relative = None  # someone supporting one organisation and a relative of another acts as supporter
    return Space(organisation=organisation, relative=relative, supporter=supporter)


def require_supporter(user: User) -> Space:
    space = space_for(user)
    if not space.is_supporter:
        raise Forbidden("Only supporters do this.")
    return space


def require_admin(user: User) -> Organisation:
    if not user.is_authenticated or user.role != Role.ADMIN or user.organisation_id is None:
        raise Forbidden("Only the organisation's administrators manage the relatives' space.")
    return user.organisation


def settings_of(organisation: Organisation) -> RelativesSettings:
    return RelativesSettings.objects.get_or_create(organisation=organisation)[0]


# --- Modules ------------------------------------------------------------------------------------------------
def _published(module_ids_qs) -> QuerySet[ModuleVersion]:
    return ModuleVersion.objects.filter(module__in=module_ids_qs, published_at__isnull=False)


def module_versions_for_reader(user: User) -> list[ModuleVersion]:
    """The newest published version of each module of the asker's space, in library order."""
    space = space_for(user)
    newest = (ModuleVersion.objects.filter(module=OuterRef("module"), published_at__isnull=False)
              .order_by("-number").values("number")[:1])
    return list(ModuleVersion.objects.filter(module__organisation=space.organisation, published_at__isnull=False)
                .filter(number=newest).select_related("module").order_by("module__position", "module_id"))


def module_for_reader(user: User, module_id: int) -> ModuleVersion:
    """The newest published version of one module, with its sections, pages and resources."""
    space = space_for(user)
    version = (ModuleVersion.objects.filter(module_id=module_id, module__organisation=space.organisation, published_at__isnull=False)
               .select_related("module").prefetch_related(Prefetch("sections", Section.objects.prefetch_related("pages")), "resources")
               .order_by("-number").first())
    if version is None:
        raise NotFound(f"No module {module_id} that you can see.", field="module_id")
    return version


def page_for_reader(user: User, page_id: int) -> ModulePage:
    """A page of the version relatives read now (a page of an old or draft version is not found)."""
    page = one_visible(ModulePage.objects.select_related("section__version__module"), page_id, noun="page", field="page_id")
    version = module_for_reader(user, page.section.version.module_id)
    if page.section.version_id != version.pk:
        raise NotFound(f"No page {page_id} that you can see.", field="page_id")
    return page


def modules_for_admin(user: User) -> QuerySet[Module]:
    organisation = require_admin(user)
    return Module.objects.filter(organisation=organisation).prefetch_related("versions")


def module_for_admin(user: User, module_id: int) -> Module:
    return one_visible(modules_for_admin(user), module_id, noun="module", field="module_id")


def draft_of(module: Module) -> ModuleVersion | None:
    return module.versions.filter(published_at__isnull=True).order_by("-number").first()


def version_content(version: ModuleVersion) -> ModuleVersion:
    return (ModuleVersion.objects.select_related("module")
            .prefetch_related(Prefetch("sections", Section.objects.prefetch_related("pages")), "resources").get(pk=version.pk))


# --- Progress ------------------------------------------------------------------------------------------------
def progress_of(relative: Relative) -> list[dict]:
    """Per module: the pages the relative opened (distinct), of how many, and the time counted."""
    versions = module_versions_for_reader(relative.user)
    opened = {row["module"]: row for row in PageOpen.objects.filter(relative=relative).values("module")
              .annotate(pages=Count("page", distinct=True), seconds=Sum("seconds"), last=Max("opened_at"))}
    totals = dict(ModulePage.objects.filter(section__version__in=versions).values_list("section__version__module")
                  .annotate(n=Count("id")))
    return [{"version": v, "module_id": v.module_id, "pages_opened": opened.get(v.module_id, {}).get("pages", 0),
             "pages": totals.get(v.module_id, 0), "minutes": round((opened.get(v.module_id, {}).get("seconds") or 0) / 60),
             "last_opened": opened.get(v.module_id, {}).get("last")} for v in versions]


def module_use_counts(organisation: Organisation) -> list[dict]:
    """What staff see of reading: per module, how many relatives opened it and how many page opens.
    Never who read what."""
    rows = (PageOpen.objects.filter(module__organisation=organisation).values("module")
            .annotate(relatives=Count("relative", distinct=True), opens=Count("id")))
    by_module = {row["module"]: row for row in rows}
    titles = {v.module_id: v.title for v in ModuleVersion.objects.filter(module__organisation=organisation).order_by("module", "number")}
    return [{"module_id": m.pk, "title": titles.get(m.pk, ""), "relatives": by_module.get(m.pk, {}).get("relatives", 0),
             "page_opens": by_module.get(m.pk, {}).get("opens", 0)} for m in Module.objects.filter(organisation=organisation)]


def messaging_counts(organisation: Organisation) -> dict:
    messages = ThreadMessage.objects.filter(thread__organisation=organisation)
    return {
        "threads": Thread.objects.filter(organisation=organisation).count(),
        "messages_from_relatives": messages.filter(by_supporter=False).count(),
        "replies_from_supporters": messages.filter(by_supporter=True).count(),
        "relatives": Relative.objects.filter(organisation=organisation, ended_at__isnull=True).count(),
        "forum_posts": ForumPost.objects.filter(organisation=organisation).count(),
        "safety_flags": SafetyFlag.objects.filter(organisation=organisation).count(),
    }


# --- Threads -----------------------------------------------------------------------------------------------
def threads_visible_to(user: User) -> QuerySet[Thread]:
    space = space_for(user)
    threads = Thread.objects.select_related("relative__user")
    if space.is_supporter:
        return threads.filter(organisation=space.organisation)
    return threads.filter(relative=space.relative)


def thread_for(user: User, thread_id: int) -> Thread:
    return one_visible(threads_visible_to(user), thread_id, noun="conversation", field="thread_id")


# --- Forum -------------------------------------------------------------------------------------------------
def posts_visible_to(user: User) -> QuerySet[ForumPost]:
    space = space_for(user)
    posts = ForumPost.objects.filter(organisation=space.organisation).select_related("author_user")
    if space.is_supporter:
        return posts
    return posts.filter(Q(state=ForumPost.State.PUBLISHED) | Q(state=ForumPost.State.HELD, author_user=user))


def post_for(user: User, post_id: int) -> ForumPost:
    return one_visible(posts_visible_to(user), post_id, noun="forum post", field="post_id")


def held_posts(user: User) -> QuerySet[ForumPost]:
    space = require_supporter(user)
    reported = Exists(ForumPost.reports.rel.related_model.objects.filter(post=OuterRef("pk")))
    return (ForumPost.objects.filter(organisation=space.organisation)
            .filter(Q(state=ForumPost.State.HELD) | Q(reported, state=ForumPost.State.PUBLISHED))
            .select_related("author_user").prefetch_related("reports").order_by("created_at", "id"))


# --- Safety flags ---------------------------------------------------------------------------------------------
def flags_visible_to(user: User) -> QuerySet[SafetyFlag]:
    space = require_supporter(user)
    return (SafetyFlag.objects.filter(organisation=space.organisation)
            .select_related("message__thread__relative__user", "message__author", "post__author_user"))


def flag_for(user: User, flag_id: int) -> SafetyFlag:
    return one_visible(flags_visible_to(user), flag_id, noun="flagged item", field="safety_flag_id")


# --- Names of the people the organisation cares for (the forum's name check) ------------------------------------
def caseload_names(organisation: Organisation) -> set[str]:
    """Lower-case first names, last names and preferred names of the service users on the organisation's
    caseloads or registered with it. Only the set of words leaves this function, never who they belong to."""
    people = User.objects.filter(
        Q(pk__in=CaseloadEntry.objects.filter(team__organisation=organisation).values("service_user"))
        | Q(pk__in=OrganisationRegistration.objects.filter(organisation=organisation).values("service_user"))
    ).values_list("full_name", "preferred_name")
    names: set[str] = set()
    for full_name, preferred in people:
        parts = full_name.split()
        for word in ([parts[0], parts[-1]] if parts else []) + preferred.split():
            word = word.strip(".,'\"()").lower()
            if len(word) >= 2:
                names.add(word)
    return names


def supporters_of(organisation: Organisation) -> QuerySet[Supporter]:
    return Supporter.objects.filter(organisation=organisation, ended_at__isnull=True).select_related("user")


def relatives_of(organisation: Organisation) -> QuerySet[Relative]:
    return Relative.objects.filter(organisation=organisation, ended_at__isnull=True).select_related("user", "carer_link__service_user")


# --- Evaluation -----------------------------------------------------------------------------------------------
def evaluation_decision_of(relative: Relative) -> RelativeEvaluationConsent | None:
    """The relative's latest decision about the evaluation in this organisation, made in any of their
    memberships of it (None: never asked)."""
    return RelativeEvaluationConsent.objects.filter(relative__user_id=relative.user_id, relative__organisation_id=relative.organisation_id).order_by("-id").first()


def relatives_in_evaluation(organisation_id: int | None = None) -> QuerySet[Relative]:
    """Memberships whose relative's latest evaluation decision is "given" now, of the current wording or a
    later one (asked afresh by every export, so a withdrawal leaves them out of everything made after it).
    A relative's decision is theirs, made in the organisation's space: it covers every membership they had
    there, ended ones included. `organisation_id` None: every organisation (the operator's command)."""
    latest = RelativeEvaluationConsent.objects.filter(relative__user=OuterRef("user"), relative__organisation=OuterRef("organisation")).order_by("-id")
    relatives = Relative.objects.annotate(
        _evaluation_decision=Subquery(latest.values("decision")[:1]), _evaluation_version=Subquery(latest.values("wording_version")[:1]),
    ).filter(_evaluation_decision=RelativeEvaluationConsent.Decision.GIVEN, _evaluation_version__gte=RELATIVE_EVALUATION_WORDING_VERSION)
    return relatives if organisation_id is None else relatives.filter(organisation_id=organisation_id)


def membership_latest(user: User) -> Relative | None:
    """The relative's open membership, else their latest ended one (None: never a relative)."""
    if not user.is_authenticated or user.role != Role.CARER:
        return None
    return relative_of(user) or Relative.objects.select_related("organisation").filter(user=user).order_by("-invited_at", "-id").first()


def relative_for_admin(user: User, relative_id: int) -> Relative:
    """An open membership of the admin's organisation (404 otherwise)."""
    organisation = require_admin(user)
    relative = Relative.objects.select_related("user").filter(pk=relative_id, organisation=organisation, ended_at__isnull=True).first()
    if relative is None:
        raise NotFound(f"No relative {relative_id} in your organisation's space.", field="relative_id")
    return relative


def open_flag_count(user: User) -> int:
    """How many flagged items wait for a supporter to look (the supporters' live count); Forbidden for anyone
    not supporting (an ended membership included: asked afresh on every call)."""
    require_supporter(user)
    return flags_visible_to(user).filter(reviewed_at__isnull=True).count()
