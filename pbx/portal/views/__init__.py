"""The portal's pages, one module per object (conventions.md: one name everywhere);
``account`` holds sign-in, the dashboard and masquerade."""
