/* upconv.kernels._native: the compiled kernels as Python functions, and the choice of instruction set.
 *
 * Each kernel is a METH_FASTCALL function kernel(start, stop, *args) (unfilter: no range) that checks
 * its arguments against the kernel's spec (common.h): arrays through the buffer protocol, C-contiguous,
 * of the expected dtype and number of axes, writable where the kernel writes; ints, bools and 3-tuples
 * of ints.  A wrong argument is a programming error of the caller and raises TypeError.  The kernel
 * then runs without the GIL, so that threads run kernels side by side.
 *
 * The kernels are compiled several times (kernels.c, one table per variant); at import the module
 * takes the best variant this CPU supports (__builtin_cpu_supports), or the one the environment variable
 * UPCONV_KERNELS names.  This file itself is compiled for the baseline, so importing never executes an
 * instruction the CPU lacks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "common.h"

extern const kernel_table upconv_table_base;
#ifdef UPCONV_HAVE_AVX2
extern const kernel_table upconv_table_avx2;
#endif
#ifdef UPCONV_HAVE_AVX512
extern const kernel_table upconv_table_avx512;
#endif

#if defined(__x86_64__) || defined(__i386__)
#define UPCONV_X86 1
#endif

__attribute__((unused)) static int cpu_avx2(void) {
#ifdef UPCONV_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

__attribute__((unused)) static int cpu_avx512(void) {
#ifdef UPCONV_X86
    return cpu_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512cd");
#else
    return 0;
#endif
}

static int cpu_any(void) { return 1; }

typedef struct {
    const char *name;
    const kernel_table *table;
    int (*supported)(void);
} variant_t;

/* best first */
static const variant_t VARIANTS[] = {
#ifdef UPCONV_HAVE_AVX512
    {"avx512", &upconv_table_avx512, cpu_avx512},
#endif
#ifdef UPCONV_HAVE_AVX2
    {"avx2", &upconv_table_avx2, cpu_avx2},
#endif
    {"base", &upconv_table_base, cpu_any},
};
#define NVARIANTS ((int)(sizeof(VARIANTS) / sizeof(VARIANTS[0])))

static const variant_t *current = NULL;

/* ------------------------------------------------------------------ argument specs */

typedef struct {
    char kind;  /* 'i', 'b', 't', 'r', 'w' */
    char dtype; /* arrays: 'F', 'f', 'q', 'u', 'X' */
    int ndim;
} argspec_t;

#define MAXARGS 24

typedef struct {
    const char *name;
    int nargs;
    argspec_t args[MAXARGS];
} kspec_t;

static const char *const NAMES[K_COUNT] = {
#define UPCONV_NAME(name, spec) #name,
    UPCONV_KERNELS(UPCONV_NAME)
#undef UPCONV_NAME
};
static const char *const SPECS_TEXT[K_COUNT] = {
#define UPCONV_SPEC(name, spec) spec,
    UPCONV_KERNELS(UPCONV_SPEC)
#undef UPCONV_SPEC
};

static kspec_t SPECS[K_COUNT];
static PyMethodDef KERNEL_DEFS[K_COUNT];

static int parse_specs(void) {
    for (int k = 0; k < K_COUNT; k++) {
        kspec_t *ks = &SPECS[k];
        const char *p = SPECS_TEXT[k];
        ks->name = NAMES[k];
        ks->nargs = 0;
        if (*p == '!') {
            p++;
        } else { /* start, stop */
            ks->args[ks->nargs++] = (argspec_t){'i', 0, 0};
            ks->args[ks->nargs++] = (argspec_t){'i', 0, 0};
        }
        while (*p) {
            if (*p == ' ') {
                p++;
                continue;
            }
            if (ks->nargs == MAXARGS) return -1;
            argspec_t *a = &ks->args[ks->nargs++];
            a->kind = *p++;
            a->dtype = 0;
            a->ndim = 0;
            if (a->kind == 'r' || a->kind == 'w') {
                a->dtype = *p++;
                a->ndim = *p++ - '0';
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ the call */

/* 'f' float32, 'd' float64, 'q' int64, 'B' uint8, '?' anything else */
static char dtype_code(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++; /* native (little-endian: every target of this build) */
    if (!f[0] || f[1]) return '?';
    switch (f[0]) {
    case 'f': return v->itemsize == 4 ? 'f' : '?';
    case 'd': return v->itemsize == 8 ? 'd' : '?';
    case 'b': case 'h': case 'i': case 'l': case 'q': case 'n': return v->itemsize == 8 ? 'q' : '?';
    case 'B': return v->itemsize == 1 ? 'B' : '?';
    default: return '?';
    }
}

static const char *dtype_name(char spec) {
    switch (spec) {
    case 'F': return "float32 or float64";
    case 'f': return "float32";
    case 'q': return "int64";
    case 'u': return "uint8";
    default: return "1, 2, 4 or 8-byte";
    }
}

static PyObject *call_kernel(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    const long id = PyLong_AsLong(self);
    const kspec_t *ks = &SPECS[id];
    if (nargs != ks->nargs)
        return PyErr_Format(PyExc_TypeError, "%s: takes %d arguments, got %zd", ks->name, ks->nargs, nargs);
    kargs_t A;
    Py_buffer views[MAXARR];
    int nv = 0, ni = 0, nt = 0, ftype = -1, xsize = 0;
    for (int j = 0; j < ks->nargs; j++) {
        const argspec_t *s = &ks->args[j];
        PyObject *o = args[j];
        if (s->kind == 'i') {
            const long long v = PyLong_AsLongLong(o);
            if (v == -1 && PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "%s: argument %d must be an int, got %R", ks->name, j, o);
                goto fail;
            }
            A.i[ni++] = v;
        } else if (s->kind == 'b') {
            const int v = PyObject_IsTrue(o);
            if (v < 0) goto fail;
            A.i[ni++] = v;
        } else if (s->kind == 't') {
            if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 3) {
                PyErr_Format(PyExc_TypeError, "%s: argument %d must be a tuple of 3 ints, got %R", ks->name, j, o);
                goto fail;
            }
            for (int e = 0; e < 3; e++) {
                const long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(o, e));
                if (v == -1 && PyErr_Occurred()) {
                    PyErr_Format(PyExc_TypeError, "%s: argument %d must be a tuple of 3 ints, got %R", ks->name, j, o);
                    goto fail;
                }
                A.t[nt][e] = v;
            }
            nt++;
        } else {
            const int write = s->kind == 'w';
            Py_buffer *v = &views[nv];
            if (PyObject_GetBuffer(o, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (write ? PyBUF_WRITABLE : 0)) < 0) {
#if PY_VERSION_HEX >= 0x030C0000
                PyObject *value = PyErr_GetRaisedException();
#else
                PyObject *type, *value, *tb;
                PyErr_Fetch(&type, &value, &tb);
                Py_XDECREF(type);
                Py_XDECREF(tb);
#endif
                PyErr_Format(PyExc_TypeError, "%s: argument %d must be a C-contiguous%s %s array (%S)", ks->name, j,
                             write ? " writable" : "", dtype_name(s->dtype), value ? value : Py_None);
                Py_XDECREF(value);
                goto fail;
            }
            nv++;
            const char code = dtype_code(v);
            int ok = v->ndim == s->ndim;
            switch (s->dtype) {
            case 'F':
                if (code != 'f' && code != 'd') ok = 0;
                else if (ftype < 0) ftype = code == 'd';
                else if (ftype != (code == 'd')) ok = 0;
                break;
            case 'f': ok &= code == 'f'; break;
            case 'q': ok &= code == 'q'; break;
            case 'u': ok &= code == 'B'; break;
            default: /* 'X' */
                if (v->itemsize != 1 && v->itemsize != 2 && v->itemsize != 4 && v->itemsize != 8) ok = 0;
                else if (!xsize) xsize = (int)v->itemsize;
                else if (xsize != v->itemsize) ok = 0;
            }
            if (!ok) {
                PyErr_Format(PyExc_TypeError, "%s: argument %d must be a %d-d %s array%s, got %d-d of format '%s'",
                             ks->name, j, s->ndim, dtype_name(s->dtype),
                             s->dtype == 'F' || s->dtype == 'X' ? " (of the same dtype as the others)" : "",
                             v->ndim, v->format ? v->format : "B");
                goto fail;
            }
            arr_t *a = &A.a[nv - 1];
            a->p = v->buf;
            a->ndim = v->ndim;
            a->itemsize = (int)v->itemsize;
            a->size = v->itemsize ? (i64)(v->len / v->itemsize) : 0;
            for (int d = 0; d < v->ndim; d++) a->shape[d] = v->shape[d];
        }
    }
    kernel_fn fn = (*current->table)[id][ftype == 1];
    if (!fn) {
        PyErr_Format(PyExc_TypeError, "%s: has no float64 version", ks->name);
        goto fail;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fn(&A);
    Py_END_ALLOW_THREADS
    for (int i = 0; i < nv; i++) PyBuffer_Release(&views[i]);
    if (rc == -1) return PyErr_NoMemory();
    if (rc) return PyErr_Format(PyExc_ValueError, "%s: arrays of the wrong shape", ks->name);
    Py_RETURN_NONE;
fail:
    for (int i = 0; i < nv; i++) PyBuffer_Release(&views[i]);
    return NULL;
}

/* ------------------------------------------------------------------ the module */

static PyObject *variants(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    PyObject *names = PyList_New(0);
    if (!names) return NULL;
    for (int v = 0; v < NVARIANTS; v++) {
        if (!VARIANTS[v].supported()) continue;
        PyObject *name = PyUnicode_FromString(VARIANTS[v].name);
        if (!name || PyList_Append(names, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(name);
    }
    PyObject *result = PyList_AsTuple(names);
    Py_DECREF(names);
    return result;
}

static PyObject *variant(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    return PyUnicode_FromString(current->name);
}

static int select_variant(const char *name) {
    for (int v = 0; v < NVARIANTS; v++)
        if (strcmp(VARIANTS[v].name, name) == 0 && VARIANTS[v].supported()) {
            current = &VARIANTS[v];
            return 0;
        }
    PyErr_Format(PyExc_ValueError, "upconv kernels: no variant '%s' for this CPU in this build", name);
    return -1;
}

static PyObject *use_variant(PyObject *module, PyObject *arg) {
    (void)module;
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name || select_variant(name) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef MODULE_METHODS[] = {
    {"variants", variants, METH_NOARGS, "The instruction-set variants built and supported by this CPU, best first."},
    {"variant", variant, METH_NOARGS, "The variant the kernels run."},
    {"use_variant", use_variant, METH_O, "Run the kernels of another variant (one of variants())."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_native",
    "upconv's compiled kernels (C, built at install), in the instruction-set variant this CPU runs best.", -1,
    MODULE_METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (parse_specs() < 0) {
        PyErr_SetString(PyExc_SystemError, "upconv kernels: a spec has too many arguments");
        return NULL;
    }
    current = NULL;
    for (int v = 0; v < NVARIANTS && !current; v++)
        if (VARIANTS[v].supported()) current = &VARIANTS[v];
    const char *wanted = getenv("UPCONV_KERNELS");
    if (wanted && *wanted && select_variant(wanted) < 0) return NULL;
    PyObject *m = PyModule_Create(&MODULE);
    if (!m) return NULL;
    PyObject *modname = PyUnicode_FromString("upconv.kernels._native");
    if (!modname) goto fail;
    for (int k = 0; k < K_COUNT; k++) {
        KERNEL_DEFS[k] = (PyMethodDef){NAMES[k], (PyCFunction)(void (*)(void))call_kernel, METH_FASTCALL,
                                       "A compiled kernel; see upconv.kernels."};
        PyObject *id = PyLong_FromLong(k);
        PyObject *fn = id ? PyCFunction_NewEx(&KERNEL_DEFS[k], id, modname) : NULL;
        Py_XDECREF(id);
        const int added = fn ? PyModule_AddObjectRef(m, NAMES[k], fn) : -1;
        Py_XDECREF(fn);
        if (added < 0) {
            Py_DECREF(modname);
            goto fail;
        }
    }
    Py_DECREF(modname);
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
