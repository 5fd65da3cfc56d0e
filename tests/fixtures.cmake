# TorchScript fixtures made at test time by real PyTorch (Debian's python3-torch), written into
# the build tree and never committed. Tests that need them name the fixture.
set(PTQ_FIXTURE_DIR "${PROJECT_BINARY_DIR}/fixtures")
find_program(PTQ_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PTQ_SYSTEM_PYTHON)
  set(PTQ_SYSTEM_PYTHON /usr/bin/python3)
endif()
if(NOT TEST make_fixtures_basic)
  add_test(NAME make_fixtures_basic
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/basic --set small)
  add_test(NAME make_fixtures_ops
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/ops --set ops)
  add_test(NAME make_fixtures_bad
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/bad --set bad)
  add_test(NAME make_fixtures_torchvision
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/torchvision --set torchvision)
  # Transformers: small torchvision ViT and Swin, text encoders over token ids, a refused attention
  # variant; the full-size vit_b_16 and swin_t (about 450 MB) for the slow test only.
  add_test(NAME make_fixtures_transformers
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/transformers --set transformers)
  add_test(NAME make_fixtures_transformers_full
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_fixture_models.py ${PTQ_FIXTURE_DIR}/transformers_full --set transformers-full)
  set_tests_properties(make_fixtures_transformers PROPERTIES FIXTURES_SETUP fixtures_transformers TIMEOUT 600)
  set_tests_properties(make_fixtures_transformers_full PROPERTIES FIXTURES_SETUP fixtures_transformers_full TIMEOUT 1200
    LABELS slow)
  # Small models trained for seconds on Fashion-MNIST the way a user elsewhere would, saved
  # without a sidecar, with PyTorch's own top-1 on them (tools/make_user_models.py).
  add_test(NAME make_fixtures_user
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_user_models.py ${PTQ_FIXTURE_DIR}/user)
  # A crafted file that crashes LibTorch's TorchScript reader (SIGSEGV) with every CRC-32 right;
  # --check makes the fixture fail when torch.jit.load no longer crashes on it.
  add_test(NAME make_fixtures_crashing
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_crashing_model.py
      ${PROJECT_SOURCE_DIR}/tests/robustness/files/good_tiny.pt ${PTQ_FIXTURE_DIR}/crashing/crashing_reader.pt --check)
  set_tests_properties(make_fixtures_crashing PROPERTIES FIXTURES_SETUP fixtures_crashing TIMEOUT 300)
  set_tests_properties(make_fixtures_user PROPERTIES FIXTURES_SETUP fixtures_user TIMEOUT 600)
  # Mixed-size JPEG/PNG folders preprocessed by torchvision, and a CNN trained on them
  # (tools/make_image_fixtures.py).
  add_test(NAME make_fixtures_images
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_image_fixtures.py ${PTQ_FIXTURE_DIR}/images)
  set_tests_properties(make_fixtures_images PROPERTIES FIXTURES_SETUP fixtures_images TIMEOUT 900)
  # ONNX files written by torch.onnx.export (tools/make_onnx_zoo.py): torchvision's CNN zoo at
  # 112 x 112 (resnet18, mobilenet_v2, efficientnet_b0 at opsets 11, 13, 17 and with a dynamic
  # batch; seven more at opset 13), the first three traced to TorchScript too, a model with
  # external data and bad files. About 560 MB.
  add_test(NAME make_fixtures_onnx
    COMMAND ${PTQ_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/tools/make_onnx_zoo.py ${PTQ_FIXTURE_DIR}/onnx
      --models resnet18,mobilenet_v2,efficientnet_b0 --opsets 11,13,17
      --more mobilenet_v3_small,shufflenet_v2_x0_5,squeezenet1_1,googlenet,mnasnet0_5,regnet_x_400mf,convnext_tiny
      --torchscript resnet18,mobilenet_v2,efficientnet_b0 --size 112)
  set_tests_properties(make_fixtures_onnx PROPERTIES FIXTURES_SETUP fixtures_onnx TIMEOUT 600)
  set_tests_properties(make_fixtures_basic PROPERTIES FIXTURES_SETUP fixtures_basic TIMEOUT 300)
  set_tests_properties(make_fixtures_ops PROPERTIES FIXTURES_SETUP fixtures_ops TIMEOUT 600)
  set_tests_properties(make_fixtures_bad PROPERTIES FIXTURES_SETUP fixtures_bad TIMEOUT 300)
  set_tests_properties(make_fixtures_torchvision PROPERTIES FIXTURES_SETUP fixtures_torchvision TIMEOUT 1200)
endif()
