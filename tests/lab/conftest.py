def pytest_configure(config):
    config.addinivalue_line("markers", "docker: needs a Docker daemon and the lab image blockd:dev (ctest e2e_lab_runner_docker)")
