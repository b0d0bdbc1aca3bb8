"""Deliberately broken (and conformingly varied) behaviours of the reference mock, served through a proxy."""
