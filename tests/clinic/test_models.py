from clinic.models import ClinicSettings


def test_phone_link_keeps_only_digits_and_plus():
    assert ClinicSettings(phone="+1 (416) 555-0134").phone_uri == "tel:+14165550134"
