from topology._cli.main import main

raise SystemExit(main())
