"""WSGI apps the e2e tests serve (``wsgifix serve tests.e2e.apps.flaskapp:app``)."""
