"""People can reach the session page from their pages: the person's appointments and the clinician's person page."""

from backend.audit.actor import Actor
from backend.sessions import services


def test_the_service_user_goes_to_the_waiting_room_from_their_appointments(world, client):
    client.force_login(world.service_user)
    page = client.get("/appointments/").content.decode()
    assert f"/sessions/{world.appointment.pk}/" not in page  # nothing chosen yet: no waiting room to go to
    services.appointment_choose(actor=Actor(world.service_user), appointment=world.appointment, modality="video")
    page = client.get("/appointments/").content.decode()
    assert f'href="/sessions/{world.appointment.pk}/"' in page and "/connection-test/" in page


def test_the_clinician_opens_the_session_from_the_person_page(world, client):
    client.force_login(world.clinician)
    page = client.get(f"/people/{world.service_user.pk}/").content.decode()
    assert f'href="/sessions/{world.appointment.pk}/"' in page
    assert client.get(f"/sessions/{world.appointment.pk}/").status_code == 200
