# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled half of intacct/records.py: typed records from a flat readByQuery page, in C.

Reading a page the general way hands every field element to Python (lxml makes an object for
each, ~27 a bill) and builds a dict per row; at 50,000 bills a second that alone is half the
time there is. Here the rows of lxml's tree are walked in C, each asked-for field's text is
converted by the same callables the Python reader uses, and the record is built by the same
constructor. Anything out of the ordinary (a nested field, a value split by a comment or an
entity, a namespace, a conversion that fails, an empty required field) makes `read_records`
return None, and the caller reads the page the general way, which names the bad field.
"""

from cpython.list cimport PyList_Append
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport strlen
from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, import_lxml__etree

import_lxml__etree()

cdef enum:
    MAX_NAMES = 64  # distinct element names remembered per page (a page has ~20)


cdef inline object _utf8(const tree.xmlChar* text):
    return PyUnicode_DecodeUTF8(<const char*>text, strlen(<const char*>text), NULL)


def read_records(_Element data, tuple sources, tuple converters, tuple empties, object build, tuple tail, object required):
    """The records of ``data``'s rows, or None when the page must be read the general way.

    For each row, field i is ``converters[i](text)`` of element ``sources[i]`` (the text itself
    when the converter is None), ``empties[i]`` when that element is empty or absent; then
    ``build(*fields, *tail)``. An empty field whose empty value is ``required`` gives None."""
    cdef Py_ssize_t width = len(sources), count = width + len(tail)
    cdef Py_ssize_t i, slot, known = 0
    cdef const tree.xmlChar* names[MAX_NAMES]
    cdef Py_ssize_t slots[MAX_NAMES]
    cdef tree.xmlNode* row = data._c_node.children
    cdef tree.xmlNode* field
    cdef tree.xmlNode* text
    if len(converters) != width or len(empties) != width:
        raise ValueError("sources, converters and empties must have the same length")
    index = {name: n for n, name in enumerate(sources)}
    texts = [None] * width
    records = []
    try:
        while row is not NULL:
            if row.type == tree.XML_ELEMENT_NODE:
                for i in range(width):
                    texts[i] = None
                field = row.children
                while field is not NULL:
                    if field.type == tree.XML_ELEMENT_NODE:
                        if field.ns is not NULL:
                            return None
                        # libxml2 interns element names per document: one name, one pointer.
                        slot = -2
                        for i in range(known):
                            if names[i] == field.name:
                                slot = slots[i]
                                break
                        if slot == -2:
                            slot = index.get(_utf8(field.name), -1)
                            if known < MAX_NAMES:
                                names[known] = field.name
                                slots[known] = slot
                                known += 1
                        text = field.children
                        if text is not NULL and (text.next is not NULL or text.type != tree.XML_TEXT_NODE):
                            return None  # nested, or text split by a comment/entity/CDATA node
                        if slot >= 0:
                            texts[slot] = None if text is NULL else _utf8(text.content)
                    elif field.type != tree.XML_TEXT_NODE and field.type != tree.XML_COMMENT_NODE:
                        return None
                    field = field.next
                values = PyTuple_New(count)
                for i in range(width):
                    value = texts[i]
                    if not value:
                        value = empties[i]
                        if value is required:
                            return None
                    elif converters[i] is not None:
                        value = converters[i](value)
                    Py_INCREF(value)
                    PyTuple_SET_ITEM(values, i, value)
                for i in range(count - width):
                    value = tail[i]
                    Py_INCREF(value)
                    PyTuple_SET_ITEM(values, width + i, value)
                PyList_Append(records, build(*values))
            elif row.type != tree.XML_TEXT_NODE and row.type != tree.XML_COMMENT_NODE:
                return None
            row = row.next
    except Exception:
        return None  # the general reader raises the same failure, with the field's name
    return records
