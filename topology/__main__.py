from topology._cli import main

raise SystemExit(main())
