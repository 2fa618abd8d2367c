"""Pascal VOC parser: every real road-sign annotation, and clear errors for broken files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from workshop_utils.data.standins import REAL_ROAD_SIGN_CLASS_COUNTS, REAL_ROAD_SIGN_SIZES
from workshop_utils.data.voc import (
    ROAD_SIGN_CLASSES,
    VocAnnotation,
    VocFormatError,
    VocObject,
    canonical_class,
    image_label,
    parse_voc_annotation,
    write_voc_annotation,
)


@pytest.fixture(scope="module")
def real_annotations() -> list[VocAnnotation]:
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "road-sign-annotations"
    if not folder.is_dir():
        pytest.skip(f"real road-sign annotations not found at {folder}")
    return [parse_voc_annotation(path) for path in sorted(folder.glob("*.xml"))]


def test_all_real_annotations_parse_with_the_counts_the_files_hold(real_annotations):
    assert len(real_annotations) == 877
    raw_names = Counter(obj.name for annotation in real_annotations for obj in annotation.objects)
    # The public copy re-labels trafficlight by lamp colour; 1,212 objects in all.
    assert raw_names == {"speedlimit": 783, "crosswalk": 200, "stop": 91,
                         "unlight": 56, "redlight": 45, "greenlight": 37}
    canonical = Counter(obj.label for annotation in real_annotations for obj in annotation.objects)
    assert canonical == {"speedlimit": 783, "crosswalk": 200, "stop": 91, "trafficlight": 138}
    assert set(canonical) == set(ROAD_SIGN_CLASSES)


def test_one_label_per_image_matches_the_counts_the_standin_copies(real_annotations):
    labels = Counter(image_label(annotation) for annotation in real_annotations)
    assert labels == REAL_ROAD_SIGN_CLASS_COUNTS
    sizes = Counter((annotation.width, annotation.height) for annotation in real_annotations)
    for size, count in REAL_ROAD_SIGN_SIZES.items():
        assert sizes[size] == count
    assert sizes[(300, 400)] == 731


def test_real_annotation_fields(real_annotations):
    first = next(a for a in real_annotations if a.filename == "road0.png")
    assert (first.width, first.height, first.depth) == (267, 400, 3)
    assert first.objects == [VocObject("redlight", 98, 62, 208, 232)]
    assert image_label(first) == "trafficlight"
    for annotation in real_annotations:
        assert annotation.filename == annotation.path.name.replace(".xml", ".png")
        for obj in annotation.objects:
            assert 0 <= obj.xmin < obj.xmax <= annotation.width
            assert 0 <= obj.ymin < obj.ymax <= annotation.height


def test_write_then_parse_round_trip(tmp_path):
    annotation = VocAnnotation("road7.png", 300, 400, 3,
                               [VocObject("stop", 1, 2, 30, 40), VocObject("greenlight", 50, 60, 70, 120)])
    path = write_voc_annotation(annotation, tmp_path / "road7.xml")
    parsed = parse_voc_annotation(path)
    assert (parsed.filename, parsed.width, parsed.height, parsed.depth) == ("road7.png", 300, 400, 3)
    assert parsed.objects == annotation.objects
    assert [obj.label for obj in parsed.objects] == ["stop", "trafficlight"]


def test_canonical_class_names():
    assert canonical_class(" RedLight ") == "trafficlight"
    assert canonical_class("speedlimit") == "speedlimit"
    assert canonical_class("Stop") == "stop"


def _write(tmp_path: Path, text: str, name: str = "broken.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_OBJECT = ("<object><name>stop</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>"
               "</bndbox></object>")
SIZE = "<size><width>300</width><height>400</height><depth>3</depth></size>"


def test_malformed_xml_names_the_file(tmp_path):
    path = _write(tmp_path, f"<annotation><filename>a.png</filename>{SIZE}<object>", "road99.xml")
    with pytest.raises(VocFormatError, match=r"road99\.xml.*not well-formed"):
        parse_voc_annotation(path)


@pytest.mark.parametrize("body, problem", [
    (f"{SIZE}{GOOD_OBJECT}", "filename"),
    (f"<filename>a.png</filename>{GOOD_OBJECT}", "size"),
    ("<filename>a.png</filename><size><width>x</width><height>4</height></size>", "number"),
    (f"<filename>a.png</filename>{SIZE}<object><name>stop</name></object>", "bndbox"),
    (f"<filename>a.png</filename>{SIZE}<object><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax>"
     "<ymax>4</ymax></bndbox></object>", "name"),
    (f"<filename>a.png</filename>{SIZE}<object><name>stop</name><bndbox><xmin>9</xmin><ymin>2</ymin>"
     "<xmax>3</xmax><ymax>4</ymax></bndbox></object>", "empty bounding box"),
])
def test_missing_or_wrong_fields_are_named(tmp_path, body, problem):
    path = _write(tmp_path, f"<annotation>{body}</annotation>")
    with pytest.raises(VocFormatError, match=problem) as error:
        parse_voc_annotation(path)
    assert "broken.xml" in str(error.value)


def test_wrong_root_element(tmp_path):
    path = _write(tmp_path, "<svg></svg>")
    with pytest.raises(VocFormatError, match="<svg>"):
        parse_voc_annotation(path)


def test_dtd_and_entities_are_refused(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            f"<annotation><filename>&lol2;</filename>{SIZE}</annotation>")
    with pytest.raises(VocFormatError, match="DTD"):
        parse_voc_annotation(_write(tmp_path, bomb))


def test_float_coordinates_and_missing_depth_are_accepted(tmp_path):
    text = ("<annotation><filename>a.png</filename><size><width>300.0</width><height>400</height></size>"
            "<object><name>crosswalk</name><bndbox><xmin>1.4</xmin><ymin>2</ymin><xmax>30.6</xmax>"
            "<ymax>40</ymax></bndbox></object></annotation>")
    parsed = parse_voc_annotation(_write(tmp_path, text))
    assert (parsed.width, parsed.depth) == (300, 3)
    assert parsed.objects[0].box == (1, 2, 31, 40)


def test_image_without_objects_has_no_label(tmp_path):
    parsed = parse_voc_annotation(_write(tmp_path, f"<annotation><filename>a.png</filename>{SIZE}</annotation>"))
    assert parsed.objects == []
    with pytest.raises(VocFormatError, match="no <object>"):
        image_label(parsed)
