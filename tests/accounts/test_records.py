"""A person's own records: the service user downloads them, an admin produces them for a subject
access request (audited), nobody else sees them, and other organisations get 404."""

from django.test import Client

from backend.audit.models import AuditEvent


def test_service_user_downloads_their_records_as_json_with_every_section(world, api):
    response = api(world.service_user).get(f"/api/v1/service-users/{world.service_user.pk}/records/")
    assert response.status_code == 200, response.content
    sections = {s["key"]: s["rows"] for s in response.json()["sections"]}
    assert {"account", "appointments", "consent", "preferences", "questionnaires"} <= set(sections)
    assert sections["account"][0]["email"] == world.service_user.email
    assert len(sections["appointments"]) == 2
    assert len(sections["consent"]) == 3 and all(row["decision"] == "Given" for row in sections["consent"])
    assert AuditEvent.objects.filter(object_id=str(world.service_user.pk), detail__records_export=True).exists()


def test_others_cannot_see_someone_elses_records(world, api, elsewhere):
    url = f"/api/v1/service-users/{world.service_user.pk}/records/"
    assert api(world.other_service_user).get(url).status_code == 404
    assert api(elsewhere.admin).get(url).status_code == 404
    assert api(world.clinician).get(url).status_code == 403
    response = api(world.admin).get(url)
    assert response.status_code == 200 and response.json()["produced_for"] == "a subject access request"
    assert AuditEvent.objects.filter(actor=world.admin, detail__subject_access_request=True).exists()


def test_records_page_and_file_for_the_person_and_the_admin(world, elsewhere):
    client = Client()
    client.force_login(world.service_user)
    page = client.get("/account/records/")
    assert page.status_code == 200 and "What Rapport holds about you" in page.content.decode()
    download = client.get("/account/records.json")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert client.get(f"/people/{world.other_service_user.pk}/records/").status_code == 404

    admin = Client()
    admin.force_login(world.admin)
    assert admin.get(f"/people/{world.service_user.pk}/records/").status_code == 200
    other_admin = Client()
    other_admin.force_login(elsewhere.admin)
    assert other_admin.get(f"/people/{world.service_user.pk}/records/").status_code == 404
    assert other_admin.get(f"/people/{world.service_user.pk}/records.json").status_code == 404
    clinician = Client()
    clinician.force_login(world.clinician)
    assert clinician.get(f"/people/{world.service_user.pk}/records/").status_code == 404


def test_account_pages_need_a_login_and_show_to_everyone(world):
    assert Client().get("/account/").status_code == 302
    for user in (world.service_user, world.clinician, world.carer, world.admin):
        client = Client()
        client.force_login(user)
        assert client.get("/account/").status_code == 200
        assert client.get("/account/password/").status_code == 200
        assert client.get("/account/two-factor/set-up/").status_code == 200
    assert Client().get("/login/two-factor/").status_code == 302  # nobody pending: back to log in
