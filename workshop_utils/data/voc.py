"""Pascal VOC annotations: the XML format of the road-sign data set (Kaggle ``andrewmvd/road-sign-detection``).

One file per image, ``annotations/roadN.xml`` beside ``images/roadN.png``::

    <annotation>
        <folder>images</folder>
        <filename>road0.png</filename>
        <size><width>267</width><height>400</height><depth>3</depth></size>
        <object>
            <name>trafficlight</name>
            <bndbox><xmin>98</xmin><ymin>62</ymin><xmax>208</xmax><ymax>232</ymax></bndbox>
            ...
        </object>
        ...
    </annotation>

The workshop classifies whole images, so an image's label is the class of its **first** object
(:func:`image_label`). Class names are made canonical by :data:`CLASS_ALIASES`: a public re-labelling of
the data set splits ``trafficlight`` into ``redlight`` / ``greenlight`` / ``unlight``, which we map back
so both versions of the files give the same four classes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

#: Names found in some copies of the annotations -> the class name of the original data set.
#: The re-labelled copy tells which lamp is lit; for a 4-class image classifier they are all traffic lights.
CLASS_ALIASES: dict[str, str] = {
    "redlight": "trafficlight",
    "greenlight": "trafficlight",
    "unlight": "trafficlight",
    "traffic_light": "trafficlight",
    "traffic light": "trafficlight",
}

#: The road-sign classes in the fixed order used for label numbers everywhere in the workshop.
ROAD_SIGN_CLASSES: tuple[str, ...] = ("crosswalk", "speedlimit", "stop", "trafficlight")

# A DTD can declare entities that expand to gigabytes ("billion laughs") or read local files; a VOC
# annotation never needs one, so files that contain one are refused before parsing.
_FORBIDDEN_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")


class VocFormatError(ValueError):
    """An annotation file that is not a valid Pascal VOC annotation (the message names the file)."""


@dataclass(frozen=True)
class VocObject:
    """One annotated object: its class name as written in the file and its bounding box in pixels."""

    name: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int

    @property
    def label(self) -> str:
        """The canonical class name (see :data:`CLASS_ALIASES`)."""
        return canonical_class(self.name)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(xmin, ymin, xmax, ymax)``."""
        return (self.xmin, self.ymin, self.xmax, self.ymax)


@dataclass(frozen=True)
class VocAnnotation:
    """The contents of one annotation file."""

    filename: str
    width: int
    height: int
    depth: int
    objects: list[VocObject] = field(default_factory=list)
    path: Path | None = None


def canonical_class(name: str) -> str:
    """``name`` lower-cased and stripped, with re-labelled names mapped back (``"redlight"`` -> ``"trafficlight"``)."""
    key = name.strip().lower()
    return CLASS_ALIASES.get(key, key)


def image_label(annotation: VocAnnotation) -> str:
    """The canonical class of the first object: the one label per image used for classification."""
    if not annotation.objects:
        where = annotation.path or annotation.filename
        raise VocFormatError(f"{where}: the annotation has no <object>, so the image has no label.")
    return annotation.objects[0].label


def _text(element: ET.Element, tag: str, path: Path | str) -> str:
    """The stripped text of the child ``tag`` (a path like ``size/width``), or a VocFormatError naming the file."""
    child = element.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise VocFormatError(f"{path}: missing or empty <{tag}> in <{element.tag}>.")
    return child.text.strip()


def _integer(element: ET.Element, tag: str, path: Path | str) -> int:
    """The child ``tag`` as an int; some VOC tools write ``98.0``, which is accepted."""
    text = _text(element, tag, path)
    try:
        return int(round(float(text)))
    except ValueError:
        raise VocFormatError(f"{path}: <{tag}> should be a number, found {text!r}.") from None


def parse_voc_annotation(path: str | Path) -> VocAnnotation:
    """Read one Pascal VOC annotation file.

    Raises :class:`VocFormatError` (a ``ValueError``) naming the file when the XML is malformed, uses a
    DTD, or lacks a required field; ``FileNotFoundError`` when the file does not exist.
    """
    path = Path(path)
    raw = path.read_bytes()
    if any(marker in raw for marker in _FORBIDDEN_MARKUP):
        raise VocFormatError(f"{path}: refusing an annotation that declares a DTD or entities.")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        raise VocFormatError(f"{path}: not well-formed XML ({error}).") from None
    if root.tag != "annotation":
        raise VocFormatError(f"{path}: the root element is <{root.tag}>, expected <annotation>.")

    size = root.find("size")
    if size is None:
        raise VocFormatError(f"{path}: missing <size>.")
    # A few VOC writers omit <depth>; every image of this data set is stored with 3 colour channels.
    depth = _integer(size, "depth", path) if size.findtext("depth", "").strip() else 3

    objects = []
    for element in root.findall("object"):
        box = element.find("bndbox")
        if box is None:
            raise VocFormatError(f"{path}: an <object> has no <bndbox>.")
        obj = VocObject(
            name=_text(element, "name", path),
            xmin=_integer(box, "xmin", path),
            ymin=_integer(box, "ymin", path),
            xmax=_integer(box, "xmax", path),
            ymax=_integer(box, "ymax", path),
        )
        if obj.xmax <= obj.xmin or obj.ymax <= obj.ymin:
            raise VocFormatError(f"{path}: empty bounding box {obj.box} for {obj.name!r}.")
        objects.append(obj)

    return VocAnnotation(
        filename=_text(root, "filename", path),
        width=_integer(size, "width", path),
        height=_integer(size, "height", path),
        depth=depth,
        objects=objects,
        path=path,
    )


def voc_annotation_xml(annotation: VocAnnotation, folder: str = "images") -> str:
    """The annotation as Pascal VOC XML text, laid out like the Kaggle files."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = folder
    ET.SubElement(root, "filename").text = annotation.filename
    size = ET.SubElement(root, "size")
    for tag, value in (("width", annotation.width), ("height", annotation.height), ("depth", annotation.depth)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for obj in annotation.objects:
        element = ET.SubElement(root, "object")
        ET.SubElement(element, "name").text = obj.name
        for tag, value in (("pose", "Unspecified"), ("truncated", "0"), ("occluded", "0"), ("difficult", "0")):
            ET.SubElement(element, tag).text = value
        box = ET.SubElement(element, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), obj.box):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode") + "\n"


def write_voc_annotation(annotation: VocAnnotation, path: str | Path, folder: str = "images") -> Path:
    """Write ``annotation`` as a Pascal VOC XML file at ``path`` and return the path."""
    path = Path(path)
    path.write_text(voc_annotation_xml(annotation, folder), encoding="utf-8")
    return path
