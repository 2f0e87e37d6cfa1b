/* wsgifix._plain: the compiled build's scan for printable ASCII.

   plain(text, end) is True when the first `end` characters of `text` (all
   of it when `end` is negative or past its length) are printable ASCII,
   0x20 to 0x7E: no control character, no DEL, nothing beyond ASCII. Text
   stored with more than one byte a character holds one beyond latin-1
   somewhere: the answer is False then, as it may be for any text the
   callers cannot take the quick way with (they judge it fully instead).

   Why C: a 1 to 4 KB session cookie's value is read on every response
   that sets it (wsgifix.rules.printable_ascii). Python's ways read a
   character or an octet at a time (str.isprintable ~1.4 ns a character,
   bytes.translate ~0.4 ns an octet: 1.6 us for 4 KB); the loop below has
   no branch inside, so the compiler reads 16 octets an instruction or more.
   Only the compiled build (COMPILE_WSGIFIX) has it; the pure build keeps
   the Python ways, with the same answers (tests/test_rules.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "plain(text: str, end: int)");
        return NULL;
    }
    PyObject *text = args[0];
    Py_ssize_t end = PyLong_AsSsize_t(args[1]);
    if (end == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) {
        Py_RETURN_FALSE;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (end < 0 || end > size) {
        end = size;
    }
    const unsigned char *octets = PyUnicode_1BYTE_DATA(text);
    /* 0x20-0x7E less 0x20 is 0-0x5E; a control wraps past 0xDF, DEL and
       latin-1 land above 0x5E: the text is plain when the largest is not
       above 0x5E. No branch inside the loop: it is vectorized (a subtract
       and a maximum, 16 octets at a time), and most text is plain. */
    unsigned char top = 0;
    for (Py_ssize_t i = 0; i < end; i++) {
        unsigned char moved = (unsigned char)(octets[i] - 0x20);
        top = moved > top ? moved : top;
    }
    return PyBool_FromLong(top <= 0x5E);
}

static PyMethodDef methods[] = {
    {"plain", (PyCFunction)(void (*)(void))plain, METH_FASTCALL,
     "plain(text, end) -> bool: text[:end] is printable ASCII (all of it "
     "when end < 0)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wsgifix._plain",
    "The compiled build's scan for printable ASCII.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__plain(void)
{
    return PyModule_Create(&module);
}
