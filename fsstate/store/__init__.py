"""The store's mechanics, with no Podman rule in them: the on-disk layout and its paths
(``layout``), every file-system call (``fsio``), the JSON codec (``codec``), commit records,
replay and checkpoints (``journal``), the store lock (``lock``), the storage seam and its
in-memory twin (``storage``), pending changes of one commit (``txn``) and consistent copies
(``snapshot``)."""
