import sys

from tinygrad_es.cli import main

sys.exit(main())
