"""Form pieces the PBX's pages share (the admin's and the portal's)."""
