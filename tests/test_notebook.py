"""utils.notebook: attaching a function defined in a notebook to a package class."""
import pytest

from utils.notebook import add_to_class


class Greeter:
    def greet(self):
        return "hello"


def test_add_to_class_replaces_the_method_for_existing_instances():
    class Local(Greeter):
        pass

    instance = Local()

    @add_to_class(Local)
    def greet(self):
        return "good morning"

    assert instance.greet() == "good morning" and greet(instance) == "good morning"
    assert Greeter().greet() == "hello"  # the base class is untouched


def test_add_to_class_checks_its_arguments():
    with pytest.raises(TypeError, match="cls must be a class, got Greeter"):
        add_to_class(Greeter())
    with pytest.raises(TypeError, match="decorates a function, got int"):
        add_to_class(Greeter)(3)
