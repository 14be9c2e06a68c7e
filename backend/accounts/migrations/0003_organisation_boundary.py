"""Organisations become a boundary (issue 10): staff belong to an organisation, service users are
registered with organisations, carer links wait for the carer to accept.

Existing rows: a practitioner gets the organisation of their first team; other staff (admins,
evaluators, practitioners in no team) get the only organisation if there is exactly one, else the
oldest one (an admin can be moved by editing the row; with no organisation at all they stay empty and
see nothing). A practitioner in teams of two organisations keeps the first one's; their memberships
of the other's teams stay in the table but no longer show them anything. A service user is registered with every organisation whose teams hold them on a
caseload or know them by an import reference (if there is exactly one organisation, with it anyway).
Existing carer links were in effect, so they count as accepted when they were made.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


STAFF = ("clinician", "peer_worker", "evaluator", "admin")


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Organisation = apps.get_model("accounts", "Organisation")
    TeamMembership = apps.get_model("accounts", "TeamMembership")
    CaseloadEntry = apps.get_model("accounts", "CaseloadEntry")
    ServiceUserReference = apps.get_model("accounts", "ServiceUserReference")
    Registration = apps.get_model("accounts", "OrganisationRegistration")
    CarerLink = apps.get_model("accounts", "CarerLink")

    organisations = list(Organisation.objects.order_by("created_at", "id").values_list("pk", flat=True))
    fallback = organisations[0] if organisations else None
    first_team_org = {}
    for user_id, organisation_id in TeamMembership.objects.order_by("-joined_at", "-id").values_list("user_id", "team__organisation_id"):
        first_team_org[user_id] = organisation_id  # ordered newest first, so the earliest wins
    for user in User.objects.filter(role__in=STAFF, organisation__isnull=True):
        organisation_id = first_team_org.get(user.pk, fallback)
        if organisation_id is not None:
            User.objects.filter(pk=user.pk).update(organisation_id=organisation_id)

    pairs = set(CaseloadEntry.objects.values_list("team__organisation_id", "service_user_id"))
    pairs |= set(ServiceUserReference.objects.values_list("organisation_id", "service_user_id"))
    if len(organisations) == 1:
        pairs |= {(fallback, pk) for pk in User.objects.filter(role="service_user").values_list("pk", flat=True)}
    Registration.objects.bulk_create([Registration(organisation_id=o, service_user_id=s) for o, s in sorted(pairs)])

    for link in CarerLink.objects.select_related("carer"):
        CarerLink.objects.filter(pk=link.pk).update(carer_email=link.carer.email, accepted_at=link.created_at)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_serviceuserreference'),
    ]

    operations = [
        migrations.CreateModel(
            name='OrganisationRegistration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('registered_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['registered_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='carerlink',
            name='accepted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='carerlink',
            name='carer_email',
            field=models.EmailField(default='', help_text='The email the service user gave, lower-case; matched to a carer account.', max_length=254),
        ),
        migrations.AddField(
            model_name='carerlink',
            name='declined_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='user',
            name='organisation',
            field=models.ForeignKey(blank=True, help_text='The organisation a staff member works for; empty for service users and carers.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='staff', to='accounts.organisation'),
        ),
        migrations.AlterField(
            model_name='carerlink',
            name='carer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='cared_for_links', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='organisationregistration',
            name='organisation',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='registrations', to='accounts.organisation'),
        ),
        migrations.AddField(
            model_name='organisationregistration',
            name='registered_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='organisationregistration',
            name='service_user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='registrations', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='organisationregistration',
            constraint=models.UniqueConstraint(fields=('organisation', 'service_user'), name='one_registration_per_organisation'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='carerlink',
            name='carer_email',
            field=models.EmailField(help_text='The email the service user gave, lower-case; matched to a carer account.', max_length=254),
        ),
        migrations.AddConstraint(
            model_name='carerlink',
            constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('service_user', 'carer_email'), name='one_open_link_per_carer_email'),
        ),
    ]
