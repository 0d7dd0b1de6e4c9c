#!/usr/bin/python3
"""Save documents with a password through LibreOffice (python3-uno), for
scripts/make-fixtures.sh: soffice --convert-to cannot set one.

    lo-save-locked.py PASSWORD IN OUT FILTER [IN OUT FILTER ...]

Starts its own headless soffice on a private pipe and stops it at the end."""
import os, subprocess, sys, tempfile, time
import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main():
    password, jobs = sys.argv[1], sys.argv[2:]
    if not jobs or len(jobs) % 3:
        sys.exit("usage: lo-save-locked.py PASSWORD IN OUT FILTER ...")
    pipe = "atrestfx%d" % os.getpid()
    profile = tempfile.mkdtemp(prefix="atrest-lo-")
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore",
                               "-env:UserInstallation=file://" + profile,
                               "--accept=pipe,name=%s;urp;" % pipe],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
                break
            except Exception:
                time.sleep(0.5)
        else:
            sys.exit("lo-save-locked: soffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        for i in range(0, len(jobs), 3):
            src, dst, flt = jobs[i:i + 3]
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0,
                                               (prop("Hidden", True),))
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)),
                           (prop("FilterName", flt), prop("Password", password)))
            doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
    finally:
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
