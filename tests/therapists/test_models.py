from therapists.models import Therapist


def test_therapist_initials_use_first_and_last_names():
    assert Therapist(name="Maya Anne Lindqvist").initials == "ML"
    assert Therapist(name="Cher").initials == "C"
