"""Serializers check the shape of a request and show objects; they never write. Whether
a number is free, a route exists or a loop forms is the actions' to say (their errors come
back field by field, a taken number as 409), so the model's uniqueness validators are
left out here: they would answer the same question a second time, differently."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator


class ActionSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.validators = [v for v in field.validators if not isinstance(v, UniqueValidator)]
        return fields

    def get_validators(self):
        return [v for v in super().get_validators() if not isinstance(v, UniqueTogetherValidator)]

    def create(self, validated_data):
        raise AssertionError("Serializers never write: the view calls the object's action.")

    def update(self, instance, validated_data):
        raise AssertionError("Serializers never write: the view calls the object's action.")
