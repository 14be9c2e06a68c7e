"""The relatives' space in the test world (tests/factories.py): built through the real services.

world.carer (linked to world.service_user) is invited from the carer link by the clinician; the peer
worker is a supporter; the admin installs the starter modules; the carer has a conversation and a
held forum post, and a published post by the supporter. Built once per world (cached on it)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.audit.actor import Actor
from backend.relatives import services
from backend.relatives.models import ForumPost, ModulePage, ModuleVersion, Relative, Supporter, Thread


@dataclass
class RelativesWorld:
    relative: Relative
    supporter: Supporter
    modules: list[ModuleVersion]
    page: ModulePage
    thread: Thread
    held_post: ForumPost
    published_post: ForumPost


def relatives_world(world) -> RelativesWorld:
    built = getattr(world, "_relatives", None)
    if built is not None:
        return built
    admin, clinician = Actor(world.admin, via="test"), Actor(world.clinician, via="test")
    modules = services.starter_module_install(actor=admin, organisation=world.organisation)
    relative = services.relative_invite_from_link(actor=clinician, link=world.carer_link)
    supporter = services.supporter_add(actor=admin, user=world.peer_worker)
    carer = Actor(world.carer, via="test")
    thread, _ = services.thread_start(actor=carer, subject="Feeling tired", body="I am finding evenings hard.")
    held, _ = services.forum_post_create(actor=carer, title="Hello", body="New here, looking for others in the same boat.")
    published, _ = services.forum_post_create(actor=Actor(world.peer_worker, via="test"), title="Welcome", body="Welcome to the forum.")
    services.forum_post_moderate(actor=Actor(world.peer_worker, via="test"), post=published, decision="publish")
    published.refresh_from_db()
    page = ModulePage.objects.filter(section__version=modules[0]).order_by("section__position", "position").first()
    world._relatives = RelativesWorld(relative=relative, supporter=supporter, modules=modules, page=page, thread=thread,
                                      held_post=held, published_post=published)
    return world._relatives
