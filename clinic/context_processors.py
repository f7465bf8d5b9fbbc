from django.http import HttpRequest

from clinic.models import ClinicSettings


def clinic(request: HttpRequest) -> dict:
    """The clinic's name and contact details for every page, loaded lazily so pages that don't show them pay nothing."""
    return {"clinic": _LazyClinic()}


class _LazyClinic:
    _row: ClinicSettings | None = None

    def __getattr__(self, name: str):
        if self._row is None:
            self._row = ClinicSettings.load()
        return getattr(self._row, name)
