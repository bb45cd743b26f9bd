"""Places (a database and an upload directory each) for tests that run manage.py as an operator."""

import pytest

from tests.ops.places import Place


@pytest.fixture
def places(tmp_path):
    made = []

    def make(name):
        place = Place(tmp_path, name)
        made.append(place)
        return place

    yield make
    for place in made:
        place.drop()
