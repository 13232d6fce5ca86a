#!/usr/bin/env python3
"""Prints a JSON snapshot of a directory tree as the kernel shows it: lstat fields, link targets,
xattrs (without following links) and sha256 of regular files. Used on the SOURCE tree and on the
kernel's own erofs mount, to compare with what the rafs reader reports."""
import hashlib, json, os, stat, sys

def snap(root):
    out = {}
    def visit(path, rel):
        st = os.lstat(path)
        e = {
            'mode': st.st_mode, 'uid': st.st_uid, 'gid': st.st_gid, 'size': st.st_size,
            'mtimeNs': str(st.st_mtime_ns), 'nlink': st.st_nlink, 'ino': st.st_ino, 'blocks': st.st_blocks,
        }
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            e['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        if stat.S_ISLNK(st.st_mode):
            e['target'] = os.fsencode(os.readlink(path)).hex()
        if stat.S_ISREG(st.st_mode):
            h = hashlib.sha256()
            with open(path, 'rb') as f:
                for block in iter(lambda: f.read(1 << 20), b''):
                    h.update(block)
            e['sha256'] = h.hexdigest()
        xs = {}
        try:
            names = os.listxattr(path, follow_symlinks=False)
        except OSError:
            names = []
        for n in names:
            xs[n] = os.getxattr(path, n, follow_symlinks=False).hex()
        e['xattrs'] = xs
        out[rel] = e
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path)):
                child = os.fsdecode(name)
                visit(os.path.join(path, name), '/' + child if rel == '/' else rel + '/' + child)
    visit(os.fsencode(root), '/')
    return out

json.dump(snap(sys.argv[1]), sys.stdout, sort_keys=True)
