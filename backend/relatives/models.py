"""The relatives' space: who is in it, what they read, what they write, and what was flagged.

Relatives are accounts with the carer role (backend/accounts): what clinical records they may see
still flows only through carer links and the person's consent (accounts.selectors.sharing_carer_links).
Nothing here widens that: the space holds general information, messages and a forum, never a
service user's record.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import CarerLink, Organisation, User
from backend.audit.append_only import AppendOnlyModel
from backend.audit.history import track


@track()
class RelativesSettings(models.Model):
    """An organisation's choices for its relatives' space: how the forum is moderated, how long a post
    may be, and the words that flag a post or message for a supporter to look at."""

    class ForumMode(models.TextChoices):
        HELD = "held", "Hold every post until a supporter publishes it"
        PUBLISHED = "published", "Publish at once; anyone can report a post and a supporter removes it"

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="relatives_settings")
    forum_mode = models.CharField(max_length=16, choices=ForumMode.choices, default=ForumMode.HELD)
    max_post_characters = models.PositiveIntegerField(default=2000)
    risk_words = models.TextField(
        blank=True,
        help_text="One word or phrase a line. A post or message containing one is shown to supporters at once: "
        "a prompt for a person to look, not a clinical judgement. Empty: the default list (docs/relatives.md).",
    )
    updated_at = models.DateTimeField(default=timezone.now)


@track()
class Relative(models.Model):
    """A carer, friend or family member invited into an organisation's relatives' space by its staff:
    from a carer link (then `carer_link` names it), or on their own, not linked to any one person's care.
    Ended rather than deleted, so who was in the space when stays true."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="relatives")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="relative_memberships")
    carer_link = models.ForeignKey(CarerLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], condition=Q(ended_at__isnull=True), name="one_open_relative_per_organisation"),
        ]


@track()
class Supporter(models.Model):
    """Someone who answers relatives' messages and moderates the forum: a member of staff, or a relative
    the organisation has trained. Marked by an admin; ended rather than deleted."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Member of staff"
        TRAINED_RELATIVE = "trained_relative", "Trained relative"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supporters")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supporter_roles")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    added_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], condition=Q(ended_at__isnull=True), name="one_open_supporter_per_organisation"),
        ]


# --- The module library: content as data, versioned ------------------------------------------------------
@track()
class Module(models.Model):
    """A topic in an organisation's library ("Looking after yourself as a relative"). Its words live in
    versions: a published version never changes; an edit starts a new draft version."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="relative_modules")
    position = models.PositiveIntegerField(default=0, help_text="Order in the library, smallest first.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["position", "id"]


@track()
class ModuleVersion(models.Model):
    """One version of a module's words. A draft is edited by admins; once published it is immutable
    (services refuse every change), and the newest published version is the one relatives read."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["module", "number"]
        constraints = [models.UniqueConstraint(fields=["module", "number"], name="one_module_version_number")]

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


@track()
class Section(models.Model):
    """A part of a module version, holding pages in order."""

    version = models.ForeignKey(ModuleVersion, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["version", "position", "id"]


@track()
class ModulePage(models.Model):
    """One page a relative reads: plain text, paragraphs split by blank lines."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="pages")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["section__position", "position", "id"]


@track()
class ModuleResource(models.Model):
    """Somewhere to read or phone next, listed with a module version: its name, where to find it and why."""

    version = models.ForeignKey(ModuleVersion, on_delete=models.CASCADE, related_name="resources")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "position", "id"]


class PageOpen(models.Model):
    """A relative opened a page. `seconds` is filled when they open their next page within
    READING_GAP_SECONDS (the time until then, capped there), so time spent is counted without
    tracking scripts; the last page of a sitting has no time. Shown to the relative; staff see
    counts per module only."""

    relative = models.ForeignKey(Relative, on_delete=models.CASCADE, related_name="page_opens")
    page = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="opens")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="opens")
    opened_at = models.DateTimeField(default=timezone.now)
    seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["relative", "-opened_at"])]


# --- Messages with supporters -----------------------------------------------------------------------------
@track()
class Thread(models.Model):
    """A conversation between one relative and the organisation's supporters (any supporter may answer)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="relative_threads")
    relative = models.ForeignKey(Relative, on_delete=models.CASCADE, related_name="threads")
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    reply_waiting = models.BooleanField(default=False, help_text="A supporter replied and the relative has not opened it since.")

    class Meta:
        ordering = ["-last_message_at", "-id"]


class ThreadMessage(models.Model):
    """One message in a thread, by the relative or a supporter. Kept as written (never edited)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    by_supporter = models.BooleanField()
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


# --- The forum ----------------------------------------------------------------------------------------------
@track()
class ForumPost(models.Model):
    """A post in an organisation's forum, or a reply to one (`parent`). Held posts are seen by their
    writer and supporters only; removed posts by supporters only."""

    class State(models.TextChoices):
        HELD = "held", "Waiting for a supporter"
        PUBLISHED = "published", "Published"
        REMOVED = "removed", "Removed"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="forum_posts")
    author = models.ForeignKey(Relative, on_delete=models.PROTECT, related_name="forum_posts", null=True, blank=True)
    author_user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices)
    held_reason = models.CharField(max_length=32, blank=True, help_text="forum_mode, name_check (the writer asked a supporter to check), report")
    created_at = models.DateTimeField(default=timezone.now)
    moderated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ForumReport(models.Model):
    """Someone in the space reported a post for a supporter to look at."""

    post = models.ForeignKey(ForumPost, on_delete=models.CASCADE, related_name="reports")
    reported_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "reported_by"], name="one_report_per_person_per_post")]


@track()
class SafetyFlag(models.Model):
    """A post or message contained a word from the organisation's risk list: supporters see it at once
    on their flagged-items page. A prompt for a person to look, not a clinical judgement."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="relative_safety_flags")
    message = models.ForeignKey(ThreadMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    post = models.ForeignKey(ForumPost, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    words = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reviewed_at", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(message__isnull=False, post__isnull=True) | Q(message__isnull=True, post__isnull=False),
                                   name="safety_flag_on_one_thing"),
        ]


# --- Evaluation -----------------------------------------------------------------------------------------------
class RelativeEvaluationConsent(AppendOnlyModel):
    """A relative's own decision whether their use of the space is counted in the service's evaluation
    (the `relatives` dataset). Relatives are not service users, so the consent catalogue (which records
    service users' decisions) does not hold it; the latest decision governs, and nobody is in the dataset
    until they say yes. Append-only: a change of mind is a new row."""

    class Decision(models.TextChoices):
        GIVEN = "given", "Given"
        WITHDRAWN = "withdrawn", "Withdrawn"

    relative = models.ForeignKey(Relative, on_delete=models.PROTECT, related_name="evaluation_consents")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    wording_version = models.PositiveIntegerField(help_text="The version of RELATIVE_EVALUATION_WORDING the decision was made against.")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["relative", "-id"]
        indexes = [models.Index(fields=["relative", "-id"], name="relative_eval_consent_latest")]


# What a relative is asked (docs/relatives.md, Evaluation). A change of meaning needs a new version.
RELATIVE_EVALUATION_WORDING_VERSION = 1
RELATIVE_EVALUATION_WORDING = (
    "Count my use of the relatives' space in the service's evaluation: how many pages I open and for how long, how many "
    "messages and forum posts I write, and whether any were flagged for a supporter to look at. The evaluators never see "
    "my name, email or anything I wrote, only a code in place of my name. I can change my mind at any time here; after "
    "that, nothing new made for the evaluation includes me."
)
